import { Queue } from 'bullmq';
import Redis from 'ioredis';
import mongoose, { Connection } from 'mongoose';
import { GENERATION_QUEUE } from '@app/jobs';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

type User = Awaited<ReturnType<typeof registerUser>>;

const HOUR = 3600_000;

/** JOB_RETENTION_MS and CLEANUP_INTERVAL_MS: the worker's scheduled cleanup, against the real stack. */
describe('Retention of finished jobs', () => {
  let stub: OpenRouterStub;
  let env: Env;
  let api: RunningApi;
  let worker: RunningWorker;
  let database: Connection;
  let redis: Redis;
  let queue: Queue;
  let user: User;

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    // Records are made old by writing their times, so the retention can be long and nothing depends on timing.
    env = testEnv('retention', { ...openRouterStubEnv(stub), RATE_LIMIT_MAX: '0', JOB_RETENTION_MS: String(HOUR), CLEANUP_INTERVAL_MS: '1000' });
    api = await startApi(env);
    database = await mongoose.createConnection(env.MONGO_URI).asPromise();
    redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
    queue = new Queue(GENERATION_QUEUE, { connection: redis, prefix: env.REDIS_PREFIX });
    user = await registerUser(api.url);
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await queue?.close();
    redis?.disconnect();
    await database?.close();
    await api?.close();
    await stub?.close();
  });

  const enqueue = async (prompt: string): Promise<string> => {
    const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  const job = async (jobId: string) => http(api.url, 'GET', `/generate-content/${jobId}`, { token: user.token });
  const reaches = (jobId: string, statuses: string[]) =>
    waitFor(async () => (statuses.includes((await job(jobId)).body.status) ? true : undefined), `job ${jobId} to be ${statuses.join(' or ')}`, 30_000, 100);
  /** Moves the record's times back, as if it had finished (or last changed) `ms` ago. */
  const age = async (jobId: string, ms: number) => {
    const then = new Date(Date.now() - ms);
    const finished = (await job(jobId)).body.completedAt ? { completedAt: then } : {};
    await database.collection('jobs').updateOne({ _id: jobId as never }, { $set: { ...finished, createdAt: then, updatedAt: then } });
  };
  const ledgerExists = async (jobId: string) => (await redis.exists(`${env.REDIS_PREFIX}:job:${jobId}`)) === 1;

  it('deletes finished jobs older than the retention with their queue entries and ledgers, and keeps newer, unfinished and saved content', async () => {
    worker = await startWorker(env);
    const oldCompleted = await enqueue('an old answer');
    const oldFailed = await enqueue('an old refusal [[stub:status=400]]');
    const saved = await enqueue('an old answer worth keeping');
    const recent = await enqueue('a recent answer');
    const running = await enqueue('a long answer [[stub:respond=hang]]');
    for (const jobId of [oldCompleted, saved, recent]) await reaches(jobId, ['completed']);
    await reaches(oldFailed, ['failed']);
    await reaches(running, ['processing']);

    const savedResponse = await http(api.url, 'POST', `/generate-content/${saved}/save`, { token: user.token, body: { title: 'Kept' } });
    expect(savedResponse.status).toBe(201);
    const itemId = savedResponse.body.content._id as string;
    expect(await queue.getJob(oldCompleted)).toBeDefined();
    expect(await ledgerExists(oldCompleted)).toBe(true);

    for (const jobId of [oldCompleted, oldFailed, saved, running]) await age(jobId, 2 * HOUR);

    for (const jobId of [oldCompleted, oldFailed, saved]) {
      await waitFor(async () => ((await job(jobId)).status === 404 ? true : undefined), `the cleanup to delete job ${jobId}`, 30_000, 200);
    }
    // The run that deleted them saw the others and left them.
    expect((await job(recent)).body).toMatchObject({ status: 'completed' });
    expect((await job(running)).body).toMatchObject({ status: expect.stringMatching(/^(queued|processing)$/) });
    const item = await http(api.url, 'GET', `/content/${itemId}`, { token: user.token });
    expect(item.status).toBe(200);
    expect(item.body).toMatchObject({ title: 'Kept', sourceJobId: saved, body: expect.stringContaining('an old answer worth keeping') });

    // A run removes queue entries and ledgers after the records: wait for what it removes last.
    const cleanedUp = async (jobId: string) => (await queue.getJob(jobId)) === undefined && !(await ledgerExists(jobId));
    await waitFor(async () => ((await Promise.all([oldCompleted, oldFailed, saved].map(cleanedUp))).every(Boolean) ? true : undefined), 'queue entries and ledgers to go');
    await waitFor(async () => (/deleted finished jobs past their retention.*"records":[1-9]/.test(worker.output()) ? true : undefined), 'the cleanup run to log');
    for (const jobId of [oldCompleted, oldFailed, saved]) {
      expect(await queue.getJob(jobId)).toBeUndefined();
      expect(await ledgerExists(jobId)).toBe(false);
    }
    expect(await queue.getJob(recent)).toBeDefined();
    expect(worker.output()).toMatch(/deleted finished jobs past their retention.*"records":[1-9]/);
  }, 120_000);
});
