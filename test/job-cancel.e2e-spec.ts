import Redis from 'ioredis';
import { http, jobWhen, registerUser, RunningApi, startApi } from './support/api';
import { JobStateProbe } from './support/job-state';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub, StubRequest } from './support/openrouter-stub';
import { RedisCluster, startRedisCluster } from './support/redis-cluster';
import { connectSocket, disconnectAll, expectNoEvent, nextEvent, receivedEvents } from './support/socket';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const MAX_ACTIVE = 2;
/** A stream that would take 30 s: long enough to be cancelled mid-call. */
const SLOW = '[[stub:chunks=150]] [[stub:chunk-delay=200]]';

/**
 * Cancel and delete (issue 11): API, worker process and the OpenRouter stand-in. Two API instances on one
 * stack: `api` queues jobs to run at once, `later` (JOB_DELAY_MS 10 min) queues jobs that stay queued.
 */
describe('Cancel and delete jobs', () => {
  let stub: OpenRouterStub;
  let env: Env;
  let api: RunningApi;
  let later: RunningApi;
  let worker: RunningWorker;
  let probe: JobStateProbe;
  let redis: Redis;
  let user: { token: string; id: string };
  let other: { token: string; id: string };

  const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) => http(api.url, method, path, { token: user.token, ...options });
  const enqueue = async (prompt: string, base = api) => {
    const response = await http(base.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  const job = async (jobId: string) => (await call('GET', `/generate-content/${jobId}`)).body;
  const until = (jobId: string, status: string, timeoutMs = 20_000) => jobWhen(api.url, user.token, jobId, [status], timeoutMs);
  const requestsFor = (marker: string): StubRequest[] => stub.requests.filter((request) => request.prompt?.includes(marker));
  /** When the stand-in saw the connection of its (first) request for `marker` close. */
  const connectionClosed = (marker: string, timeoutMs = 10_000) =>
    waitFor(() => (requestsFor(marker)[0]?.response ? Date.now() : undefined), `the provider call for ${marker} to be closed`, timeoutMs, 10);
  const queueEntryExists = async (jobId: string) => (await redis.exists(`${env.REDIS_PREFIX}:content-generation:${jobId}`)) === 1;
  const forJob = (jobId: string) => (payload: { jobId: string }) => payload.jobId === jobId;
  const marker = (name: string) => `[[${name}-${Math.random().toString(36).slice(2, 8)}]]`;

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    env = testEnv('job-cancel', {
      ...openRouterStubEnv(stub),
      RATE_LIMIT_MAX: '0',
      MAX_ACTIVE_JOBS_PER_USER: String(MAX_ACTIVE),
      OPENROUTER_TIMEOUT_MS: '60000',
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_GRACE_MS: '500',
    });
    api = await startApi(env);
    later = await startApi({ ...env, JOB_DELAY_MS: '600000' });
    worker = await startWorker(env);
    probe = new JobStateProbe(env);
    redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
    user = await registerUser(api.url, 'Owner');
    other = await registerUser(api.url, 'Other');
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await later?.close();
    await api?.close();
    await stub?.close();
    probe?.close();
    redis?.disconnect();
  });

  it('cancels a queued job: it never runs, its slot is free again, a second cancel is 409 cancelled', async () => {
    const name = marker('queued');
    const first = await enqueue(`queued job ${name}`, later);
    const second = await enqueue(`queued job two ${name}`, later);
    expect((await http(later.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'one too many', contentType: 'blog-post' } })).status).toBe(429);
    expect(await queueEntryExists(first)).toBe(true);

    const cancelled = await call('POST', `/generate-content/${first}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ jobId: first, status: 'cancelled' });

    expect(await job(first)).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String), completedAt: expect.any(String) });
    expect(await queueEntryExists(first)).toBe(false);
    expect(await probe.slotCount(user.id)).toBe(1);
    // The slot it held takes a new job.
    const third = await enqueue(`queued job three ${name}`, later);

    const again = await call('POST', `/generate-content/${first}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ currentStatus: 'cancelled', message: expect.any(String) });

    // Free the slots for the other tests.
    for (const jobId of [second, third]) expect((await call('POST', `/generate-content/${jobId}/cancel`)).status).toBe(200);
    expect(await probe.slotCount(user.id)).toBe(0);
    expect(requestsFor(name)).toEqual([]);
  });

  it('cancels a processing job: its provider call is closed within about a second, job_status cancelled reaches every tab of the owner and nobody else, no job_completed', async () => {
    const tab1 = await connectSocket(api.url, user.token);
    const tab2 = await connectSocket(api.url, user.token);
    const stranger = await connectSocket(api.url, other.token);
    const name = marker('processing');
    const jobId = await enqueue(`slow answer ${name} ${SLOW}`);
    await until(jobId, 'processing');
    // The stream has begun: the call is in flight.
    await nextEvent(tab1, 'job_delta', forJob(jobId), 10_000);

    const cancelledAt = Date.now();
    const cancelled = await call('POST', `/generate-content/${jobId}/cancel`);
    expect(cancelled.status).toBe(200);
    const closedAt = await connectionClosed(name);
    const abortMs = closedAt - cancelledAt;
    process.stdout.write(`cancel → provider connection closed: ${abortMs} ms\n`);
    expect(abortMs).toBeLessThan(1000);
    expect(requestsFor(name)[0].response?.complete).toBe(false);

    for (const tab of [tab1, tab2]) {
      const status = await nextEvent(tab, 'job_status', (payload) => payload.jobId === jobId && payload.status === 'cancelled', 5000);
      expect(status.payload).toEqual({ jobId, status: 'cancelled', attempt: 1 });
    }
    const record = await until(jobId, 'cancelled');
    expect(record).toMatchObject({ status: 'cancelled', attempts: 1, cancelledAt: expect.any(String) });
    expect(record.generatedContent).toBeUndefined();
    expect(await probe.slotCount(user.id)).toBe(0);

    // Long enough for a retry, a redelivery or a late job_completed to show.
    await expectNoEvent(tab1, 'job_completed', 1500, forJob(jobId));
    const statuses = receivedEvents(tab1, ['job_status']).map((event) => event.payload as { jobId: string; status: string }).filter(forJob(jobId));
    expect(statuses.filter((status) => status.status === 'cancelled')).toHaveLength(1);
    expect(statuses.at(-1)?.status).toBe('cancelled');
    expect(receivedEvents(stranger).filter((event) => (event.payload as { jobId?: string }).jobId === jobId)).toEqual([]);
    expect(requestsFor(name)).toHaveLength(1);
    expect(await job(jobId)).toMatchObject({ status: 'cancelled' });
  });

  it('keeps what the finished provider calls cost: cancelled during the repair request, the first answer’s usage stays on the record', async () => {
    const name = marker('usage');
    // The first answer breaks the outline contract (no sections), so a repair request follows: that one is slow.
    stub.enqueue({ kind: 'stream', text: 'Not an outline at all.' }, { kind: 'stream', chunks: 150, chunkDelayMs: 200 });
    const before = stub.requests.length;
    const jobId = await enqueue(`an outline ${name}`);
    await waitFor(() => (stub.requests.length >= before + 2 ? true : undefined), 'the repair request to start', 10_000);
    expect(stub.requests[before].response?.complete).toBe(true);

    expect((await call('POST', `/generate-content/${jobId}/cancel`)).status).toBe(200);
    const record = await waitFor(async () => {
      const current = await job(jobId);
      return current.status === 'cancelled' && current.usage ? current : undefined;
    }, 'the cancelled record to carry the usage of the first call');
    expect(record.usage).toMatchObject({ promptTokens: expect.any(Number), completionTokens: expect.any(Number), totalTokens: expect.any(Number) });
    expect(record.usage.completionTokens).toBeGreaterThan(0);
    expect(record.generatedContent).toBeUndefined();
  });

  it('answers 409 with currentStatus for a completed job, and 404 for another user’s job', async () => {
    const jobId = await enqueue(`quick answer ${marker('done')}`);
    await until(jobId, 'completed');

    const refused = await call('POST', `/generate-content/${jobId}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ currentStatus: 'completed', message: expect.any(String) });
    expect(await job(jobId)).toMatchObject({ status: 'completed' });

    expect((await http(api.url, 'POST', `/generate-content/${jobId}/cancel`, { token: other.token })).status).toBe(404);
    expect((await http(api.url, 'DELETE', `/generate-content/${jobId}`, { token: other.token })).status).toBe(404);
    expect((await call('POST', '/generate-content/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
    expect(await job(jobId)).toMatchObject({ status: 'completed' });
  });

  it('deletes a completed job; the library item saved from it stays', async () => {
    const jobId = await enqueue(`to be deleted ${marker('deleted')}`);
    await until(jobId, 'completed');
    const saved = await call('POST', `/generate-content/${jobId}/save`, { body: {} });
    expect(saved.status).toBe(201);

    const deleted = await call('DELETE', `/generate-content/${jobId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: jobId });

    expect((await call('GET', `/generate-content/${jobId}`)).status).toBe(404);
    expect((await call('DELETE', `/generate-content/${jobId}`)).status).toBe(404);
    expect(await queueEntryExists(jobId)).toBe(false);
    const item = await call('GET', `/content/${saved.body.content._id}`);
    expect(item.status).toBe(200);
    expect(item.body.body).toBe(saved.body.content.body);
  });

  it('deletes a processing job: cancelled first (its call closed, job_status cancelled), then gone', async () => {
    const socket = await connectSocket(api.url, user.token);
    const name = marker('delete-processing');
    const jobId = await enqueue(`slow answer to delete ${name} ${SLOW}`);
    await until(jobId, 'processing');
    await nextEvent(socket, 'job_delta', forJob(jobId), 10_000);

    const startedAt = Date.now();
    const deleted = await call('DELETE', `/generate-content/${jobId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: jobId });
    expect((await call('GET', `/generate-content/${jobId}`)).status).toBe(404);
    expect((await connectionClosed(name)) - startedAt).toBeLessThan(1000);
    await nextEvent(socket, 'job_status', (payload) => payload.jobId === jobId && payload.status === 'cancelled', 5000);
    await expectNoEvent(socket, 'job_completed', 1000, forJob(jobId));
    expect(await probe.slotCount(user.id)).toBe(0);
    // The worker's delivery ends without bringing anything back.
    expect((await call('GET', `/generate-content/${jobId}`)).status).toBe(404);
    expect(requestsFor(name)).toHaveLength(1);
  });

  it('leaves cancelled jobs to themselves: the reconciler neither queues them again nor fails them', async () => {
    const name = marker('reconciled');
    const jobId = await enqueue(`cancelled then reconciled ${name}`, later);
    expect((await call('POST', `/generate-content/${jobId}/cancel`)).status).toBe(200);

    // Several reconciler runs (every second, 0.5 s grace).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(await job(jobId)).toMatchObject({ status: 'cancelled' });
    expect(await probe.slotCount(user.id)).toBe(0);
    expect(await queueEntryExists(jobId)).toBe(false);
    expect(requestsFor(name)).toEqual([]);
  });
});

/** The cancel signal is a plain PUBLISH, which a Redis Cluster broadcasts to every node: the worker hears it wherever it subscribed. */
describe('Cancel on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let stub: OpenRouterStub;
  let api: RunningApi;
  let worker: RunningWorker;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    stub = await startOpenRouterStub();
    const env = testEnv('cancel-cluster', { ...openRouterStubEnv(stub), REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}`, REDIS_CLUSTER_NODES: cluster.nodes, RATE_LIMIT_MAX: '0' });
    api = await startApi(env);
    worker = await startWorker(env);
  }, 60_000);
  afterAll(async () => {
    disconnectAll();
    await worker?.stop('SIGKILL');
    await api?.close();
    await stub?.close();
    await cluster?.stop();
  });

  it('stops a processing job’s provider call and announces the cancel', async () => {
    const user = await registerUser(api.url, 'Cluster owner');
    const socket = await connectSocket(api.url, user.token);
    const name = `[[cluster-${Math.random().toString(36).slice(2, 8)}]]`;
    const enqueued = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: `slow on a cluster ${name} ${SLOW}`, contentType: 'blog-post' } });
    const jobId = enqueued.body.jobId as string;
    await nextEvent(socket, 'job_delta', (payload) => payload.jobId === jobId, 15_000);

    const cancelledAt = Date.now();
    expect((await http(api.url, 'POST', `/generate-content/${jobId}/cancel`, { token: user.token })).status).toBe(200);
    const closedAt = await waitFor(() => (stub.requests.find((request) => request.prompt?.includes(name))?.response ? Date.now() : undefined), 'the provider call to be closed', 10_000, 10);
    expect(closedAt - cancelledAt).toBeLessThan(1000);
    await nextEvent(socket, 'job_status', (payload) => payload.jobId === jobId && payload.status === 'cancelled', 5000);
    expect((await http(api.url, 'GET', `/generate-content/${jobId}`, { token: user.token })).body).toMatchObject({ status: 'cancelled' });
  });
});
