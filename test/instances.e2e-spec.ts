import { JobCompletedEvent } from '@app/pubsub';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { WorkerPool } from './support/fault-stack';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub, stubAnswerFor } from './support/openrouter-stub';
import { collectEvents, connectSocket, disconnectAll, receivedEvents } from './support/socket';
import { Env, testEnv } from './support/test-env';

const USERS = 20;
const JOBS_PER_USER = 10;
const RATE_PER_SECOND = 10;

/**
 * Several instances on one Redis and one database, as in production: 2 API instances in this process,
 * 2 worker processes. Every job completes once, every socket of its owner hears it once (whichever API
 * it is on), and the global rate limit holds across both workers.
 */
describe('Two API instances and two workers', () => {
  let stub: OpenRouterStub;
  let env: Env;
  let apis: RunningApi[];
  let workers: WorkerPool;

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    env = testEnv('instances', {
      ...openRouterStubEnv(stub),
      RATE_LIMIT_MAX: String(RATE_PER_SECOND),
      RATE_LIMIT_DURATION_MS: '1000',
      WORKER_CONCURRENCY: '10',
    });
    apis = [await startApi(env), await startApi(env)];
    workers = new WorkerPool(env);
    await workers.start(2);
  });
  afterAll(async () => {
    disconnectAll();
    await workers?.stop();
    await Promise.all((apis ?? []).map((api) => api.close()));
    await stub?.close();
  });

  it(`runs ${USERS * JOBS_PER_USER} jobs from ${USERS} users: each completes once, each socket hears it once, at most ${RATE_PER_SECOND} starts a second`, async () => {
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => registerUser(apis[i % 2].url, `User ${i}`)));
    // Every user has a socket on each API instance.
    const sockets = await Promise.all(users.map(async (user) => Promise.all(apis.map((api) => connectSocket(api.url, user.token)))));

    const jobs = new Map<string, { userId: string; prompt: string }>();
    for (let round = 0; round < JOBS_PER_USER; round++) {
      await Promise.all(
        users.map(async (user, i) => {
          const prompt = `instances ${i}-${round}`;
          const response = await http(apis[(i + round) % 2].url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
          expect(response.status).toBe(202);
          jobs.set(response.body.jobId, { userId: user.id, prompt });
        }),
      );
    }

    const completionsOf = (socket: (typeof sockets)[number][number]) => receivedEvents(socket, ['job_completed']).map((event) => event.payload as JobCompletedEvent);
    for (const [index, user] of users.entries()) {
      for (const socket of sockets[index]) {
        const events = await collectEvents(socket, (received) => received.length >= JOBS_PER_USER, { names: ['job_completed'], timeoutMs: 120_000 });
        const payloads = events.map((event) => event.payload as JobCompletedEvent);
        expect(payloads.every((payload) => payload.userId === user.id && jobs.get(payload.jobId)?.userId === user.id)).toBe(true);
        expect(new Set(payloads.map((payload) => payload.jobId)).size).toBe(JOBS_PER_USER);
      }
    }
    // A moment for a duplicate to show up, then count again: exactly once per socket.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const userSockets of sockets) for (const socket of userSockets) expect(completionsOf(socket)).toHaveLength(JOBS_PER_USER);

    for (const [jobId, job] of jobs) {
      const calls = stub.requests.filter((request) => request.prompt === job.prompt);
      expect(calls).toHaveLength(1);
      const record = await http(apis[0].url, 'GET', `/generate-content/${jobId}`, { token: users.find((user) => user.id === job.userId)!.token });
      expect(record.body).toMatchObject({ status: 'completed', attempts: 1, generatedContent: stubAnswerFor(job.prompt) });
    }

    // The limiter is global: N starts at 10 a second need at least (N / 10 - 1) seconds between the first and the last.
    const starts = stub.requests.filter((request) => request.prompt?.startsWith('instances ')).map((request) => request.receivedAt);
    const spanMs = Math.max(...starts) - Math.min(...starts);
    expect(spanMs).toBeGreaterThanOrEqual((jobs.size / RATE_PER_SECOND - 1) * 1000);
  }, 180_000);
});
