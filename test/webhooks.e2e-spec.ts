import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { deliveryJobId, eventJobId } from '@app/webhooks';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { connectSocket, disconnectAll, expectNoEvent, nextEvent } from './support/socket';
import { testEnv } from './support/test-env';
import { Received, WebhookReceiver as Receiver } from './support/webhook-receiver';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const verify = (secret: string, request: Received) =>
  new Webhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  });

/**
 * Webhooks end to end: the API registers endpoints, the worker process delivers signed events to real
 * receivers on loopback (WEBHOOK_ALLOW_PRIVATE=true here), retries and disables; a second API without
 * that setting refuses internal targets.
 */
describe('Webhooks (API + worker process + loopback receivers)', () => {
  let api: RunningApi;
  let closedApi: RunningApi;
  let worker: RunningWorker | undefined;
  let env: Record<string, string>;
  let redis: Redis;
  let queue: Queue;
  const receivers: Receiver[] = [];

  const receiver = async () => {
    const created = await new Receiver().start();
    receivers.push(created);
    return created;
  };
  const call = (token: string, method: string, path: string, body?: unknown) => http(api.url, method, path, { token, body });
  const register = async (token: string, url: string, events = ['job.completed', 'job.failed', 'job.cancelled']) => {
    const response = await call(token, 'POST', '/webhooks', { url, events });
    expect(response.status).toBe(201);
    return response.body as { _id: string; url: string; events: string[]; enabled: boolean; secret: string };
  };
  const enqueue = async (token: string, prompt = 'A post about webhooks') => {
    const response = await call(token, 'POST', '/generate-content', { prompt, contentType: 'blog-post' });
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  const requestsUntil = (target: Receiver, count: number, timeoutMs = 20_000) =>
    waitFor(() => (target.requests.length >= count ? target.requests : undefined), () => `${count} requests at the receiver (got ${target.requests.length})`, timeoutMs);
  const deliveries = async (token: string, webhookId: string) => (await call(token, 'GET', `/webhooks/${webhookId}/deliveries`)).body as Record<string, any>[];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** The BullMQ state of a finished job's webhook event ('unknown' when none was queued). */
  const eventState = (jobId: string) => queue.getJobState(eventJobId(`${jobId}:webhook`));
  /** Waits until the finisher is through with the job: its usage record is written after its webhook event was (or was not) queued. */
  const finished = async (token: string, jobId: string, jobsBefore: number) => {
    await waitFor(async () => ((await call(token, 'GET', `/generate-content/${jobId}`)).body.status === 'completed' ? true : undefined), `job ${jobId} to complete`);
    await waitFor(async () => ((await call(token, 'GET', '/usage')).body.total.jobs > jobsBefore ? true : undefined), `the usage record of job ${jobId}`);
  };

  beforeAll(async () => {
    env = testEnv('webhooks', {
      RATE_LIMIT_MAX: '0',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_BACKOFF_MS: '100',
      WEBHOOK_MAX_ATTEMPTS: '4',
      WEBHOOK_DISABLE_AFTER: '3',
      WEBHOOK_TIMEOUT_MS: '3000',
    });
    api = await startApi(env);
    worker = await startWorker(env);
    redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue('webhooks', { connection: redis, prefix: env.REDIS_PREFIX });
    closedApi = await startApi(testEnv('webhooks-closed', { RATE_LIMIT_MAX: '0' }));
  });

  afterAll(async () => {
    disconnectAll();
    await worker?.stop('SIGKILL');
    await queue?.close();
    redis?.disconnect();
    await api?.close();
    await closedApi?.close();
    await Promise.all(receivers.map((target) => target.close()));
  });

  it('delivers each finished job once, signed with the secret, as { type, timestamp, data: job }, one webhook-id per event', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    const webhook = await register(user.token, target.url);
    expect(webhook).toMatchObject({ url: target.url, events: ['job.completed', 'job.failed', 'job.cancelled'], enabled: true, secret: expect.stringMatching(/^whsec_/) });
    expect((await call(user.token, 'GET', `/webhooks/${webhook._id}`)).body.secret).toBeUndefined();

    const jobIds = [await enqueue(user.token, 'First'), await enqueue(user.token, 'Second')];
    await requestsUntil(target, 2);
    await sleep(1500);
    expect(target.requests).toHaveLength(2);

    const bodies = target.requests.map((request) => verify(webhook.secret, request) as { type: string; timestamp: string; data: Record<string, unknown> });
    expect(bodies.map((body) => body.data.jobId).sort()).toEqual([...jobIds].sort());
    for (const body of bodies) {
      expect(body).toEqual({ type: 'job.completed', timestamp: expect.any(String), data: expect.objectContaining({ status: 'completed', userId: user.id, generatedContent: expect.any(String) }) });
      expect(body.data.correlationId).toBeUndefined();
      const job = (await call(user.token, 'GET', `/generate-content/${body.data.jobId}`)).body;
      expect(body.data).toMatchObject({ _id: job._id, jobId: job.jobId, prompt: job.prompt, generatedContent: job.generatedContent });
      expect(Date.parse(body.timestamp)).toBe(Date.parse(job.completedAt));
    }
    const ids = target.requests.map((request) => request.headers['webhook-id']);
    expect(new Set(ids).size).toBe(2);
    expect(ids.every((id) => /^msg_/.test(String(id)))).toBe(true);
    expect(target.requests.every((request) => /^\d+$/.test(String(request.headers['webhook-timestamp'])))).toBe(true);

    // A delivery is logged after its receiver answered: wait for the log, then check it whole.
    const log = await waitFor(async () => {
      const entries = await deliveries(user.token, webhook._id);
      return entries.length >= 2 ? entries : undefined;
    }, 'both deliveries to be logged');
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ type: 'job.completed', attempt: 1, statusCode: 204, outcome: 'delivered', latencyMs: expect.any(Number), at: expect.any(String) });
  });

  it('retries after 500s with the same webhook-id and logs every attempt', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    let calls = 0;
    target.answer = (_request, response) => response.writeHead(++calls <= 2 ? 500 : 200).end('ok');
    const webhook = await register(user.token, target.url, ['job.completed']);

    await enqueue(user.token);
    await requestsUntil(target, 3);
    await sleep(1000);
    expect(target.requests).toHaveLength(3);
    expect(new Set(target.requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(new Set(target.requests.map((request) => request.body)).size).toBe(1);
    target.requests.forEach((request) => verify(webhook.secret, request));
    // Exponential backoff from WEBHOOK_BACKOFF_MS=100: about 100 ms, then about 200 ms.
    expect(target.requests[1].at - target.requests[0].at).toBeGreaterThanOrEqual(90);
    expect(target.requests[2].at - target.requests[1].at).toBeGreaterThanOrEqual(190);

    const log = await waitFor(async () => {
      const entries = await deliveries(user.token, webhook._id);
      return entries.length >= 3 ? entries : undefined;
    }, 'every attempt to be logged');
    expect(log.map((entry) => [entry.attempt, entry.statusCode, entry.outcome])).toEqual([
      [3, 200, 'delivered'],
      [2, 500, 'retrying'],
      [1, 500, 'retrying'],
    ]);
    expect(new Set(log.map((entry) => entry.msgId))).toEqual(new Set([target.requests[0].headers['webhook-id']]));
    expect((await call(user.token, 'GET', `/webhooks/${webhook._id}`)).body).toMatchObject({ enabled: true, failureStreak: 0 });
  });

  it("honours a 429's Retry-After", async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    let calls = 0;
    target.answer = (_request, response) => (++calls === 1 ? response.writeHead(429, { 'retry-after': '2' }).end() : response.writeHead(200).end());
    const webhook = await register(user.token, target.url, ['job.completed']);

    await enqueue(user.token);
    await requestsUntil(target, 2);
    expect(target.requests[1].at - target.requests[0].at).toBeGreaterThanOrEqual(1900);
    expect(target.requests[1].headers['webhook-id']).toBe(target.requests[0].headers['webhook-id']);
    expect(verify(webhook.secret, target.requests[1])).toMatchObject({ type: 'job.completed' });
  });

  it('tries a test ping once, and allows one per 10 s per webhook (429 with Retry-After)', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    target.answer = (_request, response) => response.writeHead(500).end();
    const webhook = await register(user.token, target.url);

    const test = await call(user.token, 'POST', `/webhooks/${webhook._id}/test`);
    expect(test.status).toBe(202);
    const again = await call(user.token, 'POST', `/webhooks/${webhook._id}/test`);
    expect(again.status).toBe(429);
    expect(again.body.error).toBe('RATE_LIMITED');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(9);
    expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(10);

    const [entry] = await waitFor(async () => {
      const log = await deliveries(user.token, webhook._id);
      return log.length ? log : undefined;
    }, 'the ping to be logged');
    expect(entry).toMatchObject({ type: 'webhook.test', attempt: 1, statusCode: 500, outcome: 'failed', msgId: test.body.msgId });
    // One attempt only: the delivery job failed for good after the 500, and no retry followed.
    await waitFor(async () => ((await queue.getJobState(deliveryJobId(test.body.eventId, webhook._id))) === 'failed' ? true : undefined), 'the ping to fail for good');
    expect(target.requests).toHaveLength(1);
    expect(await deliveries(user.token, webhook._id)).toHaveLength(1);
  });

  it('disables an endpoint after WEBHOOK_DISABLE_AFTER failed deliveries in a row and tells its owner once', async () => {
    const user = await registerUser(api.url);
    const socket = await connectSocket(api.url, user.token);
    const target = await receiver();
    target.answer = (_request, response) => response.writeHead(410).end();
    const webhook = await register(user.token, target.url, ['job.completed']);

    // 4xx fails a delivery at once (no retry): three jobs, three failed deliveries.
    for (let i = 0; i < 3; i++) await enqueue(user.token, `Failing ${i}`);
    const disabled = await nextEvent(socket, 'webhook_disabled', undefined, 20_000);
    expect(disabled.payload).toEqual({ webhookId: webhook._id, url: target.url, reason: '3 deliveries in a row failed' });
    expect(target.requests).toHaveLength(3);
    expect((await call(user.token, 'GET', `/webhooks/${webhook._id}`)).body).toMatchObject({ enabled: false, failureStreak: 3, disabledAt: expect.any(String) });

    // Disabled: the next event is not delivered to it, and no second webhook_disabled comes. A second, enabled
    // webhook hears the event, so it is queued: once its event job is fanned out, the disabled one got no delivery.
    const other = await receiver();
    const listening = await register(user.token, other.url, ['job.completed']);
    const jobId = await enqueue(user.token, 'While disabled');
    await waitFor(async () => ((await eventState(jobId)) === 'completed' ? true : undefined), 'the event job to be fanned out');
    const eventId = `${jobId}:webhook`;
    await waitFor(async () => ((await deliveries(user.token, listening._id)).some((entry) => entry.eventId === eventId) ? true : undefined), 'the enabled webhook to log the event');
    expect((await deliveries(user.token, webhook._id)).map((entry) => entry.eventId)).not.toContain(eventId);
    // Nothing queued for it either, so nothing can arrive late.
    expect(await queue.getJobState(deliveryJobId(eventId, webhook._id))).toBe('unknown');
    expect(target.requests).toHaveLength(3);
    await expectNoEvent(socket, 'webhook_disabled', 500);
    const notifications = (await call(user.token, 'GET', '/notifications')).body as { event: string }[];
    expect(notifications.filter((entry) => entry.event === 'webhook_disabled')).toHaveLength(1);
    expect((await call(user.token, 'DELETE', `/webhooks/${listening._id}`)).status).toBe(200);

    // Re-enabling starts a new streak; deliveries resume.
    const enabled = await call(user.token, 'PATCH', `/webhooks/${webhook._id}`, { enabled: true });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, failureStreak: 0 });
    expect(enabled.body.disabledAt).toBeUndefined();
    target.answer = (_request, response) => response.writeHead(200).end();
    await enqueue(user.token, 'After re-enabling');
    await requestsUntil(target, 4);
  });

  it('announces a job cancelled through the API as job.cancelled (queued by the API, delivered by the worker)', async () => {
    // A second API on the same database and Redis whose jobs wait a minute, so there is time to cancel one.
    const delayedApi = await startApi({ ...env, JOB_DELAY_MS: '60000' });
    try {
      const user = await registerUser(delayedApi.url);
      const target = await receiver();
      const webhook = await register(user.token, target.url, ['job.cancelled']);
      const accepted = await http(delayedApi.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'Never mind', contentType: 'blog-post' } });
      expect(accepted.status).toBe(202);
      const cancelled = await http(delayedApi.url, 'POST', `/generate-content/${accepted.body.jobId}/cancel`, { token: user.token });
      expect(cancelled.status).toBeLessThan(300);
      const [request] = await requestsUntil(target, 1);
      expect(verify(webhook.secret, request)).toMatchObject({ type: 'job.cancelled', data: { jobId: accepted.body.jobId, status: 'cancelled' } });
    } finally {
      await delayedApi.close();
    }
  });

  it('signs with the old and the new secret for 24 h after a rotation', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    const webhook = await register(user.token, target.url);
    const rotated = await call(user.token, 'POST', `/webhooks/${webhook._id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);

    await call(user.token, 'POST', `/webhooks/${webhook._id}/test`);
    const [request] = await requestsUntil(target, 1);
    const signatures = String(request.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures.every((signature) => signature.startsWith('v1,'))).toBe(true);
    expect(verify(rotated.body.secret, request)).toMatchObject({ type: 'webhook.test' });
    expect(verify(webhook.secret, request)).toMatchObject({ type: 'webhook.test' });
  });

  it('does not follow redirects and reads at most 64 kB of an answer', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    target.answer = (request, response) => (request.path === '/hook' ? response.writeHead(302, { location: '/elsewhere' }).end() : response.writeHead(200).end());
    const redirecting = await register(user.token, target.url);
    await call(user.token, 'POST', `/webhooks/${redirecting._id}/test`);
    await waitFor(async () => ((await deliveries(user.token, redirecting._id)).length ? true : undefined), 'the redirect attempt to be logged');
    expect((await deliveries(user.token, redirecting._id))[0]).toMatchObject({ statusCode: 302, outcome: 'failed', error: 'HTTP 302 (redirects are not followed)' });
    expect(target.requests.map((request) => request.path)).toEqual(['/hook']);

    const endless = await receiver();
    endless.answer = (_request, response) => {
      response.writeHead(200);
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    };
    const big = await register(user.token, endless.url);
    await call(user.token, 'POST', `/webhooks/${big._id}/test`);
    const [entry] = await waitFor(async () => {
      const log = await deliveries(user.token, big._id);
      return log.length ? log : undefined;
    }, 'the endless answer to be logged');
    expect(entry).toMatchObject({ statusCode: 200, outcome: 'delivered', truncated: true, responseBytes: 65_536 });
  });

  it('keeps webhooks to their owner, validates input naming the field, and allows at most 10', async () => {
    const user = await registerUser(api.url);
    const other = await registerUser(api.url);
    const target = await receiver();
    const webhook = await register(user.token, target.url);
    for (const [method, path] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['POST', '/rotate-secret'],
      ['POST', '/test'],
      ['GET', '/deliveries'],
    ]) {
      const response = await call(other.token, method, `/webhooks/${webhook._id}${path}`, method === 'PATCH' ? { description: 'mine now' } : undefined);
      expect([method, path, response.status]).toEqual([method, path, 404]);
    }
    expect((await call(other.token, 'GET', '/webhooks')).body).toEqual([]);

    const badEvents = await call(user.token, 'POST', '/webhooks', { url: target.url, events: ['job.started'] });
    expect(badEvents.status).toBe(400);
    expect(badEvents.body.details.map((detail: { field: string }) => detail.field)).toContain('events');
    const badUrl = await call(user.token, 'POST', '/webhooks', { url: 'ftp://example.com/', events: ['job.completed'] });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.details[0].field).toBe('url');

    const patched = await call(user.token, 'PATCH', `/webhooks/${webhook._id}`, { events: ['job.failed'], description: 'Failures only' });
    expect(patched.body).toMatchObject({ events: ['job.failed'], description: 'Failures only' });

    for (let i = 1; i < 10; i++) await register(user.token, `${target.url}?n=${i}`);
    const eleventh = await call(user.token, 'POST', '/webhooks', { url: target.url, events: ['job.completed'] });
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.message).toContain('10 webhooks');
    expect((await call(user.token, 'GET', '/webhooks')).body).toHaveLength(10);

    expect((await call(user.token, 'DELETE', `/webhooks/${webhook._id}`)).status).toBe(200);
    expect((await call(user.token, 'GET', `/webhooks/${webhook._id}`)).status).toBe(404);
  });

  it('creates exactly 10 of 15 parallel POSTs (a slot is taken in Redis first), and a deleted one frees its slot', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => call(user.token, 'POST', '/webhooks', { url: `${target.url}?p=${i}`, events: ['job.completed'] })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([...Array(10).fill(201), ...Array(5).fill(409)]);
    const listed = (await call(user.token, 'GET', '/webhooks')).body as { _id: string }[];
    expect(listed).toHaveLength(10);

    expect((await call(user.token, 'DELETE', `/webhooks/${listed[0]._id}`)).status).toBe(200);
    expect((await call(user.token, 'POST', '/webhooks', { url: target.url, events: ['job.completed'] })).status).toBe(201);
    expect((await call(user.token, 'POST', '/webhooks', { url: target.url, events: ['job.completed'] })).status).toBe(409);
  });

  it('queues no event for a user whose enabled webhooks do not hear it: none, a disabled one, a deleted one', async () => {
    const user = await registerUser(api.url);
    const target = await receiver();

    // No webhook: nothing queued.
    const before = await enqueue(user.token, 'No webhook yet');
    await finished(user.token, before, 0);
    expect(await eventState(before)).toBe('unknown');

    // One that hears job.failed only: a completed job queues nothing either.
    const failures = await register(user.token, target.url, ['job.failed']);
    const unheard = await enqueue(user.token, 'Nobody hears this');
    await finished(user.token, unheard, 1);
    expect(await eventState(unheard)).toBe('unknown');

    // After creating one that hears it, events flow.
    const webhook = await register(user.token, target.url, ['job.completed']);
    const heard = await enqueue(user.token, 'Heard');
    await finished(user.token, heard, 2);
    await waitFor(async () => ((await eventState(heard)) === 'completed' ? true : undefined), 'the event job to be fanned out');
    const [request] = await requestsUntil(target, 1);
    expect(verify(webhook.secret, request)).toMatchObject({ type: 'job.completed', data: { jobId: heard } });
    // A fanned-out event keeps only its id in Redis.
    expect((await queue.getJob(eventJobId(`${heard}:webhook`)))?.data.body).toBe('');

    // Disabled: nothing queued.
    expect((await call(user.token, 'PATCH', `/webhooks/${webhook._id}`, { enabled: false })).status).toBe(200);
    const whileDisabled = await enqueue(user.token, 'While disabled');
    await finished(user.token, whileDisabled, 3);
    expect(await eventState(whileDisabled)).toBe('unknown');

    // Re-enabled, then deleted: nothing queued once it is gone.
    expect((await call(user.token, 'PATCH', `/webhooks/${webhook._id}`, { enabled: true })).status).toBe(200);
    expect((await call(user.token, 'DELETE', `/webhooks/${webhook._id}`)).status).toBe(200);
    expect((await call(user.token, 'DELETE', `/webhooks/${failures._id}`)).status).toBe(200);
    const afterDelete = await enqueue(user.token, 'After deleting');
    await finished(user.token, afterDelete, 4);
    expect(await eventState(afterDelete)).toBe('unknown');
    expect(target.requests).toHaveLength(1);
  });

  describe('without WEBHOOK_ALLOW_PRIVATE', () => {
    it.each([
      'http://127.0.0.1/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://[::1]/hook',
      'http://[fd00::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://224.0.0.1/hook',
      'http://localhost:8080/hook',
      'http://metadata.google.internal/computeMetadata/v1/',
    ])('refuses %s with 400 naming url', async (url) => {
      const user = await registerUser(closedApi.url);
      const response = await http(closedApi.url, 'POST', '/webhooks', { token: user.token, body: { url, events: ['job.completed'] } });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([{ field: 'url', errors: [expect.any(String)] }]);
      // The refusal never says where the name resolved.
      expect(response.body.details[0].errors[0]).toMatch(/^url (resolves to an address that is not allowed|names a cloud metadata host)/);
    });

    it('refuses a host that does not resolve without naming it', async () => {
      const user = await registerUser(closedApi.url);
      const response = await http(closedApi.url, 'POST', '/webhooks', { token: user.token, body: { url: 'https://no-such-host.invalid/hook', events: ['job.completed'] } });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([{ field: 'url', errors: ['url could not be resolved'] }]);
    });

    it('refuses a change of url to an internal address too', async () => {
      const user = await registerUser(closedApi.url);
      const created = await http(closedApi.url, 'POST', '/webhooks', { token: user.token, body: { url: 'https://93.184.216.34/hook', events: ['job.completed'] } });
      expect(created.status).toBe(201);
      const patched = await http(closedApi.url, 'PATCH', `/webhooks/${created.body._id}`, { token: user.token, body: { url: 'http://192.168.0.10/hook' } });
      expect(patched.status).toBe(400);
      expect(patched.body.details[0].field).toBe('url');
    });
  });
});
