import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

type User = { token: string; id: string };

/**
 * Issue 11, fair scheduling: under the global rate limit one user's backlog must not starve another
 * user. Each job's BullMQ priority is its place among its owner's unfinished jobs, so the order of
 * provider requests (the stand-in logs them) shows who was served when.
 */
describe('Fair scheduling under the global rate limit', () => {
  let stub: OpenRouterStub;
  let api: RunningApi;
  let worker: RunningWorker | undefined;
  let env: Record<string, string>;

  const enqueue = async (user: User, prompt: string) => {
    const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  /** The owners ("A", "B") of the provider calls so far, in the order they started (repair requests left out). */
  const starts = (run: string) =>
    stub.requests.filter((request) => !request.repair && request.prompt?.includes(run)).map((request) => /\b([AB])-\d+/.exec(request.prompt ?? '')?.[1]);

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    env = testEnv('fair', {
      ...openRouterStubEnv(stub),
      // A fast limiter: one start per 150 ms, one job at a time, so starts are strictly ordered.
      RATE_LIMIT_MAX: '1',
      RATE_LIMIT_DURATION_MS: '150',
      WORKER_CONCURRENCY: '1',
      MAX_ACTIVE_JOBS_PER_USER: '100',
    });
    api = await startApi(env);
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    await api?.close();
    await stub?.close();
  });

  it("serves a 3:1 mix of two users' waiting jobs alternately while both have some", async () => {
    const [a, b] = [await registerUser(api.url), await registerUser(api.url)];
    // Everything waits before any worker runs, so only the priorities decide the order.
    for (let i = 1; i <= 12; i++) {
      await enqueue(a, `mix A-${i}`);
      if (i % 3 === 0) await enqueue(b, `mix B-${i / 3}`);
    }
    worker = await startWorker(env);

    await waitFor(() => (starts('mix').length >= 16 ? true : undefined), 'all 16 jobs to start', 30_000);
    expect(starts('mix').join('')).toBe('ABABABAB' + 'AAAAAAAA');
  });

  it("starts a user's one job within the next two starts while another user has 50 waiting", async () => {
    worker = await startWorker(env);
    const [a, b] = [await registerUser(api.url), await registerUser(api.url)];
    for (let i = 1; i <= 50; i++) await enqueue(a, `backlog A-${i}`);
    await waitFor(() => (starts('backlog').length >= 2 ? true : undefined), 'the backlog to be served');

    await enqueue(b, 'backlog B-1');
    // Counted from when B's job exists: starts while its request was on its way are not its wait.
    const startedBefore = starts('backlog').length;
    await waitFor(() => (starts('backlog').includes('B') ? true : undefined), "B's job to start", 10_000);

    const position = starts('backlog').indexOf('B');
    expect(position - startedBefore).toBeLessThanOrEqual(1);
    expect(starts('backlog').filter((owner) => owner === 'A').length).toBeLessThan(50);
  });
});
