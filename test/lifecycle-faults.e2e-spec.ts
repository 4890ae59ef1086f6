import { http, registerUser, RunningApi, startApi } from './support/api';
import { OwnServices, settledJobs, WorkerPool } from './support/fault-stack';
import { JobStateProbe } from './support/job-state';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub, stubAnswerFor } from './support/openrouter-stub';
import { Env, testEnv } from './support/test-env';
import { waitFor } from './support/worker';

/** Short lifecycle intervals, so recovery takes seconds in tests (production defaults are minutes). */
const FAST_RECOVERY: Env = {
  JOB_BACKOFF_MS: '200',
  RATE_LIMIT_MAX: '0',
  WORKER_CONCURRENCY: '10',
  WORKER_LOCK_DURATION_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
  JOB_OUTAGE_BACKOFF_MAX_MS: '2000',
  RECONCILE_INTERVAL_MS: '2000',
  RECONCILE_GRACE_MS: '3000',
  MAX_ACTIVE_JOBS_PER_USER: '200',
};

/**
 * Faults with real processes: the suite's own FerretDB and redis-server are killed and restarted, workers
 * are SIGKILLed, frozen (SIGSTOP) and stopped, while jobs are in flight. Whatever happens, every job ends
 * completed or failed, is announced exactly once, its attempts are the provider calls it made, and the
 * user's slots equal their unfinished jobs.
 */
describe('Job lifecycle under faults', () => {
  let services: OwnServices;

  beforeAll(async () => {
    services = await new OwnServices().start();
  });
  afterAll(() => services?.stop());

  describe('with the OpenRouter stand-in and two workers', () => {
    let stub: OpenRouterStub;
    let env: Env;
    let api: RunningApi;
    let workers: WorkerPool;
    let probe: JobStateProbe;

    beforeAll(async () => {
      stub = await startOpenRouterStub();
      env = testEnv('faults-stub', {
        ...FAST_RECOVERY,
        MONGO_URI: `${services.mongoUri}/faults_stub`,
        REDIS_URL: services.redisUrl,
        ...openRouterStubEnv(stub),
        OPENROUTER_TIMEOUT_MS: '30000',
      });
      api = await startApi(env);
      workers = new WorkerPool(env);
      await workers.start(2);
      probe = new JobStateProbe(env);
    });
    afterAll(async () => {
      await workers?.stop();
      await api?.close();
      await stub?.close();
      probe?.close();
    });

    /** Queues `count` jobs with unique prompts carrying `markers`; returns their ids and prompts. */
    const enqueue = async (user: { token: string }, label: string, count: number, markers: string) => {
      const jobs: { jobId: string; prompt: string }[] = [];
      for (let i = 0; i < count; i++) {
        const prompt = `${label} ${i} ${markers}`;
        const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
        expect(response.status).toBe(202);
        jobs.push({ jobId: response.body.jobId, prompt });
      }
      return jobs;
    };
    const requestsFor = (prompt: string) => stub.requests.filter((request) => request.prompt === prompt);
    const inFlight = (label: string, count: number) =>
      waitFor(async () => (new Set(stub.requests.filter((request) => request.prompt?.startsWith(`${label} `)).map((r) => r.prompt)).size >= count ? true : undefined), `${count} provider calls of ${label}`, 30_000);

    it.each([5_000, 20_000, 40_000])('finishes 20 jobs in flight through a %i ms database outage, each bought and announced once', async (outageMs) => {
      const user = await registerUser(api.url);
      const label = `db-outage-${outageMs}`;
      const jobs = await enqueue(user, label, 20, '[[stub:latency=1500]]');
      await inFlight(label, 20);
      await services.databaseOutage(outageMs);

      const settled = await settledJobs(api.url, user.token, jobs.map((job) => job.jobId));
      for (const job of jobs) {
        const record = settled.find((candidate) => candidate.jobId === job.jobId)!;
        expect({ status: record.status, generatedContent: record.generatedContent, announced: record.announced }).toEqual({ status: 'completed', generatedContent: stubAnswerFor(job.prompt), announced: 1 });
        // Answers that arrived during the outage were kept and stored later, never bought again.
        expect(requestsFor(job.prompt)).toHaveLength(1);
        expect(record.attempts).toBe(1);
      }
      expect(await probe.slotCount(user.id)).toBe(0);
    }, 240_000);

    it('finishes 100 jobs through 3 worker SIGKILLs, each announced once with honest attempts', async () => {
      const user = await registerUser(api.url);
      const jobs = await enqueue(user, 'sigkill', 100, '[[stub:latency=1000]]');
      for (let kill = 0; kill < 3; kill++) {
        await new Promise((resolve) => setTimeout(resolve, 1200));
        await workers.replace(kill % 2, 'SIGKILL');
      }

      const settled = await settledJobs(api.url, user.token, jobs.map((job) => job.jobId));
      for (const job of jobs) {
        const record = settled.find((candidate) => candidate.jobId === job.jobId)!;
        expect(record.announced).toBe(1);
        // A healthy provider: a job fails only if workers died on it repeatedly, and then says so.
        if (record.status === 'failed') expect(record.error).toMatch(/workers running this job stopped/);
        else expect(record.generatedContent).toBe(stubAnswerFor(job.prompt));
        // Every call that reached the provider is counted; a kill between counting and sending may add one.
        const calls = requestsFor(job.prompt).length;
        expect(record.attempts).toBeGreaterThanOrEqual(calls);
        expect(record.attempts).toBeLessThanOrEqual(calls + 3);
      }
      expect(await probe.slotCount(user.id)).toBe(0);
    }, 240_000);

    it('a worker frozen 8 s mid-stream aborts its provider call when it wakes: one full answer per job', async () => {
      const user = await registerUser(api.url);
      // 16 s streams: still running when the frozen worker wakes up.
      const jobs = await enqueue(user, 'frozen', 6, '[[stub:chunks=20]] [[stub:chunk-delay=800]]');
      await inFlight('frozen', 6);
      // The stand-in saw the calls; the workers' log lines of them may come a moment later.
      expect(await waitFor(async () => (workers.providerCalls().size > 0 ? workers.providerCalls().size : undefined), 'the provider calls to be logged')).toBeGreaterThan(0);
      const frozen = workers.live[0];
      frozen.child.kill('SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 8000));
      frozen.child.kill('SIGCONT');

      const settled = await settledJobs(api.url, user.token, jobs.map((job) => job.jobId));
      for (const job of jobs) {
        const record = settled.find((candidate) => candidate.jobId === job.jobId)!;
        expect(record).toMatchObject({ status: 'completed', generatedContent: stubAnswerFor(job.prompt), announced: 1 });
        const requests = requestsFor(job.prompt);
        expect(requests.filter((request) => request.response?.complete)).toHaveLength(1);
        expect(record.attempts).toBe(requests.length);
      }
      expect(workers.output()).toMatch(/lost the lock of a job/);
    }, 120_000);

    it('stops within the shutdown timeout + 1 s, handing its job back without using an attempt', async () => {
      const user = await registerUser(api.url);
      const [job] = await enqueue(user, 'shutdown', 1, '[[stub:chunks=10]] [[stub:chunk-delay=1500]]');
      await inFlight('shutdown', 1);
      // The worker that logged the provider call owns the job (its log line may trail the stand-in's request a little).
      const owner = await waitFor(async () => workers.live.find((worker) => worker.output().includes(`"jobId":"${job.jobId}"`)), 'the worker running the job');
      const index = workers.live.indexOf(owner);
      const started = Date.now();
      await workers.remove(index, 'SIGTERM');
      const stoppedAfterMs = Date.now() - started;
      await workers.add();
      expect(owner.child.exitCode).toBe(0);
      // Timeout 2 s + 1 s, and room for a loaded machine; an unbounded drain would wait out the whole 15 s stream.
      expect(stoppedAfterMs).toBeLessThan(2000 + 1000 + 5000);

      const [record] = await settledJobs(api.url, user.token, [job.jobId]);
      expect(record).toMatchObject({ status: 'completed', generatedContent: stubAnswerFor(job.prompt), announced: 1 });
      expect(record.attempts).toBe(requestsFor(job.prompt).length);
      expect(owner.output()).toMatch(/handing them back/);
    }, 60_000);
  });

  describe('with the offline provider (it never fails): an outage never costs a job', () => {
    let env: Env;
    let api: RunningApi;
    let workers: WorkerPool;
    let probe: JobStateProbe;

    beforeAll(async () => {
      env = testEnv('faults-offline', { ...FAST_RECOVERY, MONGO_URI: `${services.mongoUri}/faults_offline`, REDIS_URL: services.redisUrl, JOB_DELAY_MS: '1500' });
      api = await startApi(env);
      workers = new WorkerPool(env);
      await workers.start(2);
      probe = new JobStateProbe(env);
    });
    afterAll(async () => {
      await workers?.stop();
      await api?.close();
      probe?.close();
    });

    it.each([
      ['database', (ms: number) => services.databaseOutage(ms)],
      ['Redis', (ms: number) => services.redisOutage(ms)],
    ])('completes 20 jobs that fall due during a 20 s %s outage, attempts equal to provider calls', async (_name, outage) => {
      const user = await registerUser(api.url);
      const jobIds: string[] = [];
      for (let i = 0; i < 20; i++) {
        const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: `due in the outage ${i}`, contentType: 'blog-post' } });
        expect(response.status).toBe(202);
        jobIds.push(response.body.jobId);
      }
      // The jobs fall due 1.5 s after queueing, well inside the outage.
      await outage(20_000);

      const settled = await settledJobs(api.url, user.token, jobIds);
      const calls = workers.providerCalls();
      for (const record of settled) {
        expect({ status: record.status, announced: record.announced }).toEqual({ status: 'completed', announced: 1 });
        expect(record.attempts).toBe(calls.get(record.jobId));
      }
      expect(await probe.slotCount(user.id)).toBe(0);
    }, 240_000);
  });
});
