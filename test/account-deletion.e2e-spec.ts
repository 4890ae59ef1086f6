import Redis from 'ioredis';
import mongoose from 'mongoose';
import { AuthService } from '@app/auth';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { connectSocket, disconnectAll, waitForDisconnect } from './support/socket';
import { Env, testEnv } from './support/test-env';
import { WebhookReceiver as Receiver } from './support/webhook-receiver';
import { RunningWorker, startWorker, waitFor } from './support/worker';

/** A stream that would take 30 s: still running when the account is deleted. */
const SLOW = '[[stub:chunks=150]] [[stub:chunk-delay=200]]';

type User = Awaited<ReturnType<typeof registerUser>>;

/** Everything a user made, by id: what must be gone (or stay) after a deletion. */
interface Footprint {
  userId: string;
  jobIds: string[];
  batchIds: string[];
  itemIds: string[];
  templateIds: string[];
  webhookIds: string[];
  sessionIds: string[];
}

const idsOf = (footprint: Footprint): string[] => [
  footprint.userId,
  ...footprint.jobIds,
  ...footprint.batchIds,
  ...footprint.itemIds,
  ...footprint.templateIds,
  ...footprint.webhookIds,
  ...footprint.sessionIds,
];

const sid = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;

/**
 * Account deletion and export (issue 13): API instances, the worker process, the OpenRouter stand-in, a
 * loopback webhook receiver. After DELETE /auth/me every collection of the database and every Redis key of
 * the stack is read whole, and nothing may name the deleted user or anything of theirs; the other user's
 * data is all still there.
 */
describe('Account deletion and export', () => {
  let stub: OpenRouterStub;
  let env: Env;
  let api: RunningApi;
  let later: RunningApi;
  let sweeper: RunningApi;
  let worker: RunningWorker;
  let redis: Redis;
  let database: mongoose.Connection;
  let receiver: Receiver;

  const call = (token: string, method: string, path: string, body?: unknown, base = api) => http(base.url, method, path, { token, body });
  const enqueue = async (token: string, prompt: string, base = api, headers: Record<string, string> = {}) => {
    const response = await http(base.url, 'POST', '/generate-content', { token, body: { prompt, contentType: 'blog-post' }, headers });
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  const until = (token: string, jobId: string, status: string, timeoutMs = 20_000) =>
    waitFor(async () => {
      const job = (await call(token, 'GET', `/generate-content/${jobId}`)).body;
      return job.status === status ? job : undefined;
    }, `job ${jobId} to be ${status}`, timeoutMs);

  /** A user with a completed job saved to the library, a hand-written item, a template and a webhook that heard the job. */
  const populate = async (user: User, name: string): Promise<Footprint> => {
    const template = await call(user.token, 'POST', '/templates', {
      name: `${name} template`,
      contentType: 'Blog Post Outline',
      prompt: 'Outline a post about {{topic}}.',
      variables: [{ name: 'topic', required: true }],
    });
    expect(template.status).toBe(201);
    const webhook = await call(user.token, 'POST', '/webhooks', { url: receiver.url, events: ['job.completed', 'job.failed', 'job.cancelled', 'batch.completed'] });
    expect(webhook.status).toBe(201);
    const heard = receiver.requests.length;
    const completed = await enqueue(user.token, `${name}: a finished post`, api, { 'Idempotency-Key': `key-${name}` });
    await until(user.token, completed, 'completed');
    await waitFor(() => (receiver.requests.length > heard ? true : undefined), `${name}'s webhook to be delivered`);
    await waitFor(async () => ((await call(user.token, 'GET', `/webhooks/${webhook.body._id}/deliveries`)).body.length > 0 ? true : undefined), `${name}'s delivery log`);
    // Its usage record is among the last steps of its finish.
    await waitFor(async () => ((await call(user.token, 'GET', '/usage')).body.total?.jobs >= 1 ? true : undefined), `${name}'s usage record`);
    const saved = await call(user.token, 'POST', `/generate-content/${completed}/save`, {});
    expect(saved.status).toBe(201);
    const manual = await call(user.token, 'POST', '/content', { title: `${name}'s note`, type: 'Blog Post Outline', body: 'Written by hand' });
    expect(manual.status).toBe(201);
    const sessions = (await call(user.token, 'GET', '/auth/sessions')).body as { id: string }[];
    return {
      userId: user.id,
      jobIds: [completed],
      batchIds: [],
      itemIds: [saved.body.content._id, manual.body._id],
      templateIds: [template.body._id],
      webhookIds: [webhook.body._id],
      sessionIds: sessions.map((session) => session.id),
    };
  };

  /** Every document of every collection that names one of `ids`, as `<collection>: <document>`. */
  const documentsNaming = async (ids: string[]): Promise<string[]> => {
    const found: string[] = [];
    for (const { name } of await database.db!.listCollections().toArray()) {
      for (const document of await database.db!.collection(name).find({}).toArray()) {
        const text = JSON.stringify(document);
        if (ids.some((id) => text.includes(id))) found.push(`${name}: ${text.slice(0, 300)}`);
      }
    }
    return found;
  };

  /** Every Redis key of this stack whose name or value names one of `ids`, but those in `allowed`. */
  const keysNaming = async (ids: string[], allowed: (key: string) => boolean = () => false): Promise<string[]> => {
    const tagged = env.REDIS_PREFIX;
    const untagged = tagged.replace(/[{}]/g, '');
    const keys = new Set<string>();
    // MATCH is a glob: braces are literal there, brackets would not be (the prefixes have none).
    for (const match of [`${tagged}*`, `${untagged}:*`]) {
      let cursor = '0';
      do {
        const [next, page] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        page.filter((key) => key.startsWith(tagged) || key.startsWith(`${untagged}:`)).forEach((key) => keys.add(key));
        cursor = next;
      } while (cursor !== '0');
    }
    const found: string[] = [];
    for (const key of keys) {
      if (allowed(key)) continue;
      const text = `${key} ${JSON.stringify(await valueOf(key))}`;
      if (ids.some((id) => text.includes(id))) found.push(text.slice(0, 300));
    }
    return found;
  };
  const valueOf = async (key: string): Promise<unknown> => {
    switch (await redis.type(key)) {
      case 'string':
        return redis.get(key);
      case 'hash':
        return redis.hgetall(key);
      case 'set':
        return redis.smembers(key);
      case 'zset':
        return redis.zrange(key, 0, -1);
      case 'list':
        return redis.lrange(key, 0, -1);
      case 'stream':
        return redis.xrange(key, '-', '+');
      default:
        return null;
    }
  };
  /**
   * Kept on purpose, by exact name: the ended session ids (until one access-token lifetime passes), and BullMQ's own
   * event logs of the three queues, which hold ids of recent queue events and are trimmed by BullMQ. Nothing of the
   * user goes to tokens-valid-after: with the user record gone, their tokens are refused anyway.
   */
  const keptByDesign = (key: string) =>
    [`${env.REDIS_PREFIX}:revoked-sessions`, ...['content-generation', 'maintenance', 'webhooks'].map((queue) => `${env.REDIS_PREFIX}:${queue}:events`)].includes(key);

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    receiver = await new Receiver().start();
    env = testEnv('account-deletion', {
      ...openRouterStubEnv(stub),
      RATE_LIMIT_MAX: '0',
      OPENROUTER_TIMEOUT_MS: '60000',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_BACKOFF_MS: '100',
    });
    api = await startApi(env);
    later = await startApi({ ...env, JOB_DELAY_MS: '600000' });
    // The only instance that sweeps often: deletions begun over 2 minutes ago (the default) and never finished.
    sweeper = await startApi({ ...env, ACCOUNT_DELETION_SWEEP_MS: '300' });
    worker = await startWorker(env);
    redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
    database = await mongoose.createConnection(env.MONGO_URI).asPromise();
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await later?.close();
    await sweeper?.close();
    await api?.close();
    await stub?.close();
    await receiver?.close();
    redis?.disconnect();
    await database?.close();
  });

  it('exports all of the user\'s data as a JSON download, without password hash, token hashes or webhook secrets', async () => {
    const user = await registerUser(api.url, 'Exporter');
    const footprint = await populate(user, 'exporter');
    const batch = await call(user.token, 'POST', '/generate-content/batch', { items: [{ prompt: 'batch one', contentType: 'blog-post' }] }, later);
    expect(batch.status).toBe(202);

    const response = await fetch(`${api.url}/auth/me/export`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="account-export-${new Date().toISOString().slice(0, 10)}.json"`);
    const text = await response.text();
    const exported = JSON.parse(text);

    expect(exported.profile).toMatchObject({ _id: user.id, email: user.email, name: 'Exporter', status: 'active' });
    expect(exported.sessions.map((session: { id: string }) => session.id)).toEqual(expect.arrayContaining(footprint.sessionIds));
    expect(exported.jobs.map((job: { jobId: string }) => job.jobId)).toEqual(expect.arrayContaining([...footprint.jobIds, batch.body.jobs[0].jobId]));
    expect(exported.jobs.find((job: { jobId: string }) => job.jobId === footprint.jobIds[0])).toMatchObject({ status: 'completed', generatedContent: expect.any(String) });
    expect(exported.library.map((item: { _id: string }) => item._id).sort()).toEqual([...footprint.itemIds].sort());
    expect(exported.templates.map((template: { _id: string }) => template._id)).toEqual(footprint.templateIds);
    expect(exported.webhooks).toEqual([expect.objectContaining({ _id: footprint.webhookIds[0], url: receiver.url })]);
    expect(exported.batches.map((entry: { batchId: string }) => entry.batchId)).toEqual([batch.body.batchId]);
    expect(exported.usage).toEqual([expect.objectContaining({ day: new Date().toISOString().slice(0, 10), jobs: 1 })]);
    expect(exported.notifications).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'job_completed', payload: expect.objectContaining({ jobId: footprint.jobIds[0] }) })]));
    expect(exported.webhookDeliveries[footprint.webhookIds[0]]).toEqual([expect.objectContaining({ type: 'job.completed', outcome: 'delivered' })]);

    expect(text).not.toMatch(/passwordHash|\$2[aby]\$/);
    expect(text).not.toMatch(/whsec_|"secret"/);
    expect(text).not.toContain(user.token);
    expect(text).not.toMatch(/"cur"|refreshHash|tokenHash/);
    expect(text).not.toContain(user.password);
  });

  it('DELETE /auth/me: 400 without a password and 403 with a wrong one (nothing removed); with the right one 204, and nothing of the user is left in MongoDB or Redis while the other user keeps everything', async () => {
    const other = await registerUser(api.url, 'Other');
    const kept = await populate(other, 'other');

    const user = await registerUser(api.url, 'Leaver');
    const footprint = await populate(user, 'leaver');
    const second = await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } });
    expect(second.status).toBe(200);
    footprint.sessionIds.push(sid(second.body.token));
    const socket = await connectSocket(api.url, user.token);

    // Unfinished work: one job streaming from the provider, one queued for later, a queued batch of two.
    const running = await enqueue(user.token, `leaver: still running ${SLOW}`);
    await until(user.token, running, 'processing');
    const queued = await enqueue(user.token, 'leaver: queued for later', later);
    const batch = await call(user.token, 'POST', '/generate-content/batch', { items: [{ prompt: 'leaver batch one', contentType: 'blog-post' }, { prompt: 'leaver batch two', contentType: 'blog-post' }] }, later);
    expect(batch.status).toBe(202);
    footprint.jobIds.push(running, queued, ...batch.body.jobs.map((job: { jobId: string }) => job.jobId));
    footprint.batchIds.push(batch.body.batchId);

    const missing = await call(user.token, 'DELETE', '/auth/me', {});
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/password/);
    const wrong = await call(user.token, 'DELETE', '/auth/me', { password: 'not-the-password' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toBe('password is incorrect');
    expect((await call(user.token, 'GET', '/auth/me')).status).toBe(200);
    expect((await call(user.token, 'GET', '/generate-content')).body).toHaveLength(footprint.jobIds.length);
    expect((await documentsNaming([user.id])).length).toBeGreaterThan(0);

    const disconnected = waitForDisconnect(socket, 10_000);
    const deleted = await call(user.token, 'DELETE', '/auth/me', { password: user.password });
    expect(deleted.status).toBe(204);
    await disconnected;
    for (const token of [user.token, second.body.token]) expect((await call(token, 'GET', '/auth/me')).status).toBe(401);
    expect((await call(user.token, 'DELETE', '/auth/me', { password: user.password })).status).toBe(401);
    expect((await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await http(api.url, 'POST', '/auth/refresh', { body: { refreshToken: second.body.refreshToken } })).status).toBe(401);

    // Nothing of the user, now and after the worker had time to finish anything it held.
    const gone = idsOf(footprint);
    for (const pause of [0, 2000]) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      expect(await documentsNaming(gone)).toEqual([]);
      expect(await keysNaming(gone, keptByDesign)).toEqual([]);
    }
    const revoked = await redis.zrange(`${env.REDIS_PREFIX}:revoked-sessions`, 0, -1);
    expect(revoked).toEqual(expect.arrayContaining(footprint.sessionIds.filter((id) => id !== sid(user.token))));

    // The other user keeps everything: the scanners do see what is there.
    expect((await documentsNaming([other.id])).length).toBeGreaterThanOrEqual(6);
    expect((await keysNaming([other.id])).length).toBeGreaterThan(0);
    expect((await call(other.token, 'GET', '/auth/me')).status).toBe(200);
    expect((await call(other.token, 'GET', '/generate-content')).body.map((job: { jobId: string }) => job.jobId)).toEqual(kept.jobIds);
    expect((await call(other.token, 'GET', '/content')).body.map((item: { _id: string }) => item._id).sort()).toEqual([...kept.itemIds].sort());
    expect((await call(other.token, 'GET', '/templates')).body.filter((template: { builtIn: boolean }) => !template.builtIn).map((template: { _id: string }) => template._id)).toEqual(kept.templateIds);
    expect((await call(other.token, 'GET', '/webhooks')).body.map((webhook: { _id: string }) => webhook._id)).toEqual(kept.webhookIds);
    expect((await call(other.token, 'GET', `/webhooks/${kept.webhookIds[0]}/deliveries`)).body.length).toBeGreaterThan(0);
    expect((await call(other.token, 'GET', '/notifications')).body).toBeDefined();
    const notifications = await call(other.token, 'GET', '/notifications');
    expect(notifications.status).toBe(200);
    expect(notifications.body).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'job_completed', payload: expect.objectContaining({ jobId: kept.jobIds[0] }) })]));
    const fresh = await enqueue(other.token, 'other: still works');
    await until(other.token, fresh, 'completed');
  });

  it('finishes a deletion that was cut short: the marked account is refused everywhere, and DELETE /auth/me with the same token and password completes it', async () => {
    const user = await registerUser(api.url, 'Interrupted');
    const footprint = await populate(user, 'interrupted');
    // What an outage right after the first step leaves: the account marked deleting and inactive, its data all there.
    await database.db!.collection('users').updateOne({ _id: new mongoose.Types.ObjectId(user.id) }, { $set: { status: 'inactive', deletingAt: new Date() } });
    // As AuthService does after its write: every instance forgets the cached user.
    await redis.publish(`${env.REDIS_PREFIX}:user-changed`, user.id);
    await waitFor(async () => ((await call(user.token, 'GET', '/auth/me')).status === 401 ? true : undefined), 'the marked account to be refused');
    expect((await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(403);
    expect((await call(user.token, 'GET', '/auth/me/export')).status).toBe(401);

    expect((await call(user.token, 'DELETE', '/auth/me', { password: 'not-the-password' })).status).toBe(403);
    expect((await call(user.token, 'DELETE', '/auth/me', { password: user.password })).status).toBe(204);

    const gone = idsOf(footprint);
    expect(await documentsNaming(gone)).toEqual([]);
    expect(await keysNaming(gone, keptByDesign)).toEqual([]);
    expect((await call(user.token, 'DELETE', '/auth/me', { password: user.password })).status).toBe(401);
  });

  it('finishes, without anyone asking, a deletion nobody resumed (the caller\'s token expired, or had no session)', async () => {
    const user = await registerUser(api.url, 'Abandoned');
    const footprint = await populate(user, 'abandoned');
    // The first step, as DELETE /auth/me does it, then nothing (a 503 the client never repeats).
    await sweeper.app.get(AuthService, { strict: false }).beginAccountDeletion({ id: user.id, email: user.email, name: 'Abandoned', role: 'user', sessionId: sid(user.token) }, user.password);
    expect((await call(user.token, 'GET', '/auth/me')).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Not before it is 2 minutes old: a deletion under way is left to its request.
    expect((await documentsNaming([user.id])).length).toBeGreaterThan(0);
    await database.db!.collection('users').updateOne({ _id: new mongoose.Types.ObjectId(user.id) }, { $set: { deletingAt: new Date(Date.now() - 3 * 60_000) } });

    await waitFor(async () => ((await documentsNaming([user.id])).length === 0 ? true : undefined), 'the sweep to finish the deletion', 30_000);
    const gone = idsOf(footprint);
    expect(await documentsNaming(gone)).toEqual([]);
    expect(await keysNaming(gone, keptByDesign)).toEqual([]);
    expect((await call(user.token, 'DELETE', '/auth/me', { password: user.password })).status).toBe(401);
    expect((await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
  }, 60_000);
});
