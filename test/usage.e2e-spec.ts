import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { UsageRepository } from '@app/jobs';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-3-haiku'];
const today = () => new Date().toISOString().slice(0, 10);

interface Sums {
  jobs: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
}

/** The sums GET /usage should show for these job records (their usage as stored when they finished). */
function sumsOf(jobs: { usage?: { promptTokens: number; completionTokens: number; totalTokens: number; cost?: number } }[]): Sums {
  const sums: Sums = { jobs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0 };
  for (const job of jobs) {
    sums.jobs++;
    sums.promptTokens += job.usage?.promptTokens ?? 0;
    sums.completionTokens += job.usage?.completionTokens ?? 0;
    sums.totalTokens += job.usage?.totalTokens ?? 0;
    sums.cost += job.usage?.cost ?? 0;
  }
  return sums;
}

function expectSums(actual: Sums, expected: Sums): void {
  const counts = ({ jobs, promptTokens, completionTokens, totalTokens }: Sums) => ({ jobs, promptTokens, completionTokens, totalTokens });
  expect(counts(actual)).toEqual(counts(expected));
  expect(actual.cost).toBeCloseTo(expected.cost, 9);
}

/**
 * GET /usage (issue 13, part 4): sums per UTC day and per model from the usage records the finisher writes
 * once per finished job — with the OpenRouter stand-in (which reports `usage.cost`) and the offline
 * provider (cost 0).
 */
describe('Usage', () => {
  describe('with the OpenRouter stand-in', () => {
    let stub: OpenRouterStub;
    let env: Env;
    let api: RunningApi;
    let later: RunningApi;
    let worker: RunningWorker;
    let mongo: MongoClient;
    let user: { token: string; id: string };
    let other: { token: string; id: string };

    const enqueue = async (base: RunningApi, token: string, prompt: string, model?: string) => {
      const response = await http(base.url, 'POST', '/generate-content', { token, body: { prompt, contentType: 'blog-post', ...(model ? { options: { model } } : {}) } });
      expect(response.status).toBe(202);
      return response.body.jobId as string;
    };
    const finished = (token: string, jobId: string) =>
      waitFor(
        async () => {
          const job = (await http(api.url, 'GET', `/generate-content/${jobId}`, { token })).body;
          return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
        },
        `job ${jobId} to finish`,
        20_000,
      );
    const usage = (token: string, query = '') => http(api.url, 'GET', `/usage${query}`, { token });

    beforeAll(async () => {
      stub = await startOpenRouterStub();
      env = testEnv('usage', { ...openRouterStubEnv(stub), LLM_ALLOWED_MODELS: MODELS.join(','), JOB_DELAY_MS: '0', RATE_LIMIT_MAX: '0' });
      api = await startApi(env);
      later = await startApi({ ...env, JOB_DELAY_MS: '600000' });
      worker = await startWorker(env);
      mongo = await MongoClient.connect(env.MONGO_URI);
      user = await registerUser(api.url, 'Usage');
      other = await registerUser(api.url, 'Other');
    });
    afterAll(async () => {
      await worker?.stop();
      await later?.close();
      await api?.close();
      await stub?.close();
      await mongo?.close();
    });

    it('sums jobs, tokens and the reported cost per day and per model, from records kept when each job finished', async () => {
      const ids = [
        await enqueue(api, user.token, 'usage one'),
        await enqueue(api, user.token, 'usage two with more words in it'),
        await enqueue(api, user.token, 'usage three', MODELS[1]),
      ];
      const othersJob = await enqueue(api, other.token, 'someone else');
      const jobs = await Promise.all(ids.map((id) => finished(user.token, id)));
      await finished(other.token, othersJob);
      expect(jobs.map((job) => job.status)).toEqual(['completed', 'completed', 'completed']);
      expect(jobs.every((job) => job.usage.cost > 0)).toBe(true);
      // A deleted job keeps its usage: GET /usage reads the records, not the jobs.
      expect((await http(api.url, 'DELETE', `/generate-content/${ids[0]}`, { token: user.token })).status).toBe(200);

      // A job reads completed before its finisher has written its usage record (the last steps of a finish).
      await waitFor(async () => ((await usage(user.token)).body.total?.jobs === 3 ? true : undefined), 'three usage records');
      await waitFor(async () => ((await usage(other.token)).body.total?.jobs === 1 ? true : undefined), "the other user's usage record");
      const response = await usage(user.token);

      expect(response.status).toBe(200);
      const to = today();
      expect(response.body.to).toBe(to);
      expect(response.body.from).toBe(new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10));
      expect(response.body.days).toHaveLength(1);
      const [day] = response.body.days;
      expect(day.day).toBe(to);
      expectSums(day, sumsOf(jobs));
      expect(day.models.map((model: { model: string }) => model.model)).toEqual([MODELS[1], MODELS[0]]);
      expectSums(day.models[0], sumsOf([jobs[2]]));
      expectSums(day.models[1], sumsOf(jobs.slice(0, 2)));
      expectSums(response.body.total, sumsOf(jobs));
      // One record per job, whatever finished it how often.
      expect(await mongo.db().collection('usage').countDocuments({ jobId: { $in: ids } })).toBe(3);
    });

    it("counts a cancelled job with the usage it had, and another user's jobs never", async () => {
      const before = (await usage(user.token)).body.total as Sums;
      const jobId = await enqueue(later, user.token, 'to be cancelled');
      expect((await http(api.url, 'POST', `/generate-content/${jobId}/cancel`, { token: user.token })).status).toBe(200);

      const cancelled = await waitFor(async () => {
        const total = (await usage(user.token)).body.total as Sums;
        return total.jobs === before.jobs + 1 ? total : undefined;
      }, 'the cancelled job to be recorded');

      expectSums(cancelled, { ...before, jobs: before.jobs + 1 });
      const record = await mongo.db().collection('usage').findOne({ _id: jobId as never });
      expect(record).toMatchObject({ status: 'cancelled', totalTokens: 0, cost: 0, day: today() });
      const others = (await usage(other.token)).body;
      expect(others.total.jobs).toBe(1);
    });

    it('answers a range without jobs with no days, and one that holds today with them', async () => {
      expect((await usage(user.token, '?from=2020-01-01&to=2020-01-31')).body).toEqual({
        from: '2020-01-01',
        to: '2020-01-31',
        days: [],
        total: { jobs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0 },
      });
      const single = await usage(user.token, `?from=${today()}&to=${today()}`);
      expect(single.body.days.map((day: { day: string }) => day.day)).toEqual([today()]);
    });

    it.each([
      ['?from=2026-13-01', 'from'],
      ['?from=2026-02-30&to=2026-03-10', 'from'],
      ['?to=yesterday', 'to'],
      ['?from=2026-11-24&to=2026-11-01', 'from'],
      ['?from=2024-01-01&to=2026-01-01', 'from'],
    ])('answers %s with 400 naming %s', async (query, field) => {
      const response = await usage(user.token, query);
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([expect.objectContaining({ field })]);
    });

    it("deletes every record of a user for account deletion, and only theirs (UsageRepository.deleteAllOf)", async () => {
      const mine = (await usage(user.token)).body.total.jobs;
      expect(await api.app.get(UsageRepository).deleteAllOf(other.id)).toBe(1);
      expect((await usage(other.token)).body.total.jobs).toBe(0);
      expect((await usage(user.token)).body.total.jobs).toBe(mine);
    });

    it('refuses unknown parameters and anonymous callers', async () => {
      expect((await usage(user.token, '?since=2026-01-01')).status).toBe(400);
      expect((await http(api.url, 'GET', '/usage')).status).toBe(401);
    });
  });

  describe('with the offline provider', () => {
    let env: Env;
    let api: RunningApi;
    let worker: RunningWorker;

    beforeAll(async () => {
      env = testEnv('usage-offline', { JOB_DELAY_MS: '0', RATE_LIMIT_MAX: '0' });
      api = await startApi(env);
      worker = await startWorker(env);
    });
    afterAll(async () => {
      await worker?.stop();
      await api?.close();
    });

    it('sums its word counts as tokens with cost 0, counting each job into the daily token counter once', async () => {
      const user = await registerUser(api.url);
      const body = { items: [1, 2, 3].map((i) => ({ prompt: `offline usage ${i}`, contentType: 'blog-post' })) };
      const batch = await http(api.url, 'POST', '/generate-content/batch', { token: user.token, body });
      expect(batch.status).toBe(202);
      const jobs = await waitFor(
        async () => {
          const all = await Promise.all(batch.body.jobs.map(async (ref: { jobId: string }) => (await http(api.url, 'GET', `/generate-content/${ref.jobId}`, { token: user.token })).body));
          return all.every((job) => job.status === 'completed') ? all : undefined;
        },
        'the batch to complete',
        20_000,
      );

      // The usage records and then the day's counter are the last steps of each job's finish.
      const report = await waitFor(async () => {
        const current = (await http(api.url, 'GET', '/usage', { token: user.token })).body;
        return current.total?.jobs === 3 ? current : undefined;
      }, 'three usage records');
      const expected = sumsOf(jobs);
      expect(expected.totalTokens).toBeGreaterThan(0);
      expect(report.total).toEqual({ ...expected, cost: 0 });
      expect(report.days[0].models).toEqual([{ model: jobs[0].model, ...expected, cost: 0 }]);
      const redis = new Redis(env.REDIS_URL);
      try {
        const counted = () => redis.get(`${env.REDIS_PREFIX.replace(/[{}]/g, '')}:{u:${user.id}}:tokens:${today()}`).then(Number);
        await waitFor(async () => ((await counted()) >= expected.totalTokens ? true : undefined), 'the day counter to hold every job');
        expect(await counted()).toBe(expected.totalTokens);
      } finally {
        redis.disconnect();
      }
    });
  });
});
