import Redis from 'ioredis';
import { http, jobWhen, JsonResponse, registerUser, RunningApi, startApi } from './support/api';
import { connectError, connectSocket, disconnectAll, waitForDisconnect } from './support/socket';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const PER_MINUTE = 10;
const TOKEN_BUDGET = 60;
const job = (prompt: string) => ({ prompt, contentType: 'blog-post' });

/** The 429 of a per-user limit: its four headers, as whole seconds (IETF RateLimit draft). */
function expectRateLimited(response: JsonResponse, limit: number, message: RegExp): void {
  expect(response.status).toBe(429);
  expect(response.body).toMatchObject({ statusCode: 429, error: 'RATE_LIMITED' });
  expect(response.body.message).toMatch(message);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(response.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(Number(response.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
  const reset = Number(response.headers.get('ratelimit-reset'));
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(60);
}

/**
 * Per-user limits (issue 13, part 3) on two API instances sharing Redis and the database: the job
 * windows, the daily token budget (with a worker and the offline provider, whose usage counts words),
 * and MAX_SOCKETS_PER_USER.
 */
describe('Per-user limits', () => {
  describe('job windows and sockets (two API instances, jobs stay queued)', () => {
    let env: Env;
    let apis: RunningApi[];

    beforeAll(async () => {
      env = testEnv('user-limits', { USER_JOBS_PER_MINUTE: String(PER_MINUTE), USER_JOBS_PER_DAY: '500', MAX_SOCKETS_PER_USER: '2', JOB_DELAY_MS: '600000', MAX_ACTIVE_JOBS_PER_USER: '50' });
      apis = [await startApi(env), await startApi(env)];
    });
    afterEach(() => disconnectAll());
    afterAll(async () => {
      await Promise.all((apis ?? []).map((api) => api.close()));
    });

    it(`holds ${PER_MINUTE} jobs a minute across both instances: the next gets 429 with Retry-After and RateLimit-*`, async () => {
      const user = await registerUser(apis[0].url);
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => http(apis[i % 2].url, 'POST', '/generate-content', { token: user.token, body: job(`window ${i}`) })));

      expect(answers.filter((answer) => answer.status === 202)).toHaveLength(PER_MINUTE);
      const refused = answers.filter((answer) => answer.status !== 202);
      expect(refused).toHaveLength(6);
      for (const answer of refused) expectRateLimited(answer, PER_MINUTE, /10 jobs per minute/);
      expect(refused[0].headers.get('ratelimit-remaining')).toBe('0');
      expect(refused[0].body).toMatchObject({ limitName: 'USER_JOBS_PER_MINUTE', window: 'minute', limit: PER_MINUTE, remaining: 0 });

      // Another user has a window of their own.
      const other = await registerUser(apis[1].url);
      expect((await http(apis[1].url, 'POST', '/generate-content', { token: other.token, body: job('other user') })).status).toBe(202);
    });

    it('refuses a batch of 6 after 5 jobs whole (nothing queued), and takes a batch of 5', async () => {
      const user = await registerUser(apis[0].url);
      for (let i = 0; i < 5; i++) expect((await http(apis[i % 2].url, 'POST', '/generate-content', { token: user.token, body: job(`single ${i}`) })).status).toBe(202);

      const six = await http(apis[1].url, 'POST', '/generate-content/batch', { token: user.token, body: { items: Array.from({ length: 6 }, (_, i) => job(`six ${i}`)) } });

      expectRateLimited(six, PER_MINUTE, /A batch of 6 jobs would take you past 10 jobs per minute .*5 left/);
      expect(six.headers.get('ratelimit-remaining')).toBe('5');
      expect((await http(apis[0].url, 'GET', '/batches', { token: user.token })).body).toEqual([]);
      expect((await http(apis[0].url, 'GET', '/generate-content', { token: user.token })).body).toHaveLength(5);

      const five = await http(apis[0].url, 'POST', '/generate-content/batch', { token: user.token, body: { items: Array.from({ length: 5 }, (_, i) => job(`five ${i}`)) } });
      expect(five.status).toBe(202);
      expectRateLimited(await http(apis[1].url, 'POST', '/generate-content', { token: user.token, body: job('one more') }), PER_MINUTE, /10 jobs per minute/);
    });

    it('refuses a batch larger than the limit itself, saying so', async () => {
      const user = await registerUser(apis[0].url);

      const eleven = await http(apis[0].url, 'POST', '/generate-content/batch', { token: user.token, body: { items: Array.from({ length: 11 }, (_, i) => job(`eleven ${i}`)) } });

      expect(eleven.status).toBe(429);
      expect(eleven.body.message).toMatch(/send at most 10 at a time/);
      expect((await http(apis[0].url, 'POST', '/generate-content', { token: user.token, body: job('fits') })).status).toBe(202);
    });

    it('takes nothing of the window for a bad request or a replayed Idempotency-Key', async () => {
      const user = await registerUser(apis[0].url);
      for (let i = 0; i < 12; i++) {
        expect((await http(apis[i % 2].url, 'POST', '/generate-content', { token: user.token, body: { prompt: `bad ${i}`, contentType: 'poem' } })).status).toBe(400);
      }
      expect((await http(apis[0].url, 'POST', '/generate-content/batch', { token: user.token, body: { items: [job('ok'), { prompt: 'bad' }] } })).status).toBe(400);
      const keyed = await http(apis[0].url, 'POST', '/generate-content', { token: user.token, body: job('keyed'), headers: { 'Idempotency-Key': 'limits-1' } });
      expect(keyed.status).toBe(202);
      for (let i = 0; i < 3; i++) {
        const replay = await http(apis[i % 2].url, 'POST', '/generate-content', { token: user.token, body: job('keyed'), headers: { 'Idempotency-Key': 'limits-1' } });
        expect(replay.body.jobId).toBe(keyed.body.jobId);
      }

      const answers = await Promise.all(Array.from({ length: PER_MINUTE }, (_, i) => http(apis[i % 2].url, 'POST', '/generate-content', { token: user.token, body: job(`good ${i}`) })));
      // The keyed job took one entry: 9 more fit.
      expect(answers.map((answer) => answer.status).sort()).toEqual([...Array(9).fill(202), 429]);
    });

    it('refuses a third socket of a user across instances with its own connect_error, and admits one again after a disconnect', async () => {
      const user = await registerUser(apis[0].url);
      const first = await connectSocket(apis[0].url, user.token);
      await connectSocket(apis[1].url, user.token);

      const refused = await connectError(apis[0].url, user.token);
      expect(refused.message).toBe('Too many connections: at most 2 sockets per user');
      expect((await connectError(apis[1].url, user.token)).message).toBe('Too many connections: at most 2 sockets per user');
      // A bad token is still an authentication error, and another user is not affected.
      expect((await connectError(apis[0].url, 'not-a-token')).message).toBe('Authentication error');
      const other = await registerUser(apis[1].url);
      await connectSocket(apis[1].url, other.token);

      const gone = waitForDisconnect(first);
      first.disconnect();
      await gone;
      const again = await waitFor(
        async () => {
          try {
            return await connectSocket(apis[1].url, user.token);
          } catch {
            return undefined;
          }
        },
        'a socket to be admitted after one disconnected',
        5000,
      );
      expect(again.connected).toBe(true);
    });
  });

  describe('the daily token budget (worker, offline provider)', () => {
    let env: Env;
    let api: RunningApi;
    let worker: RunningWorker;

    beforeAll(async () => {
      env = testEnv('token-budget', { USER_DAILY_TOKEN_BUDGET: String(TOKEN_BUDGET), JOB_DELAY_MS: '0', RATE_LIMIT_MAX: '0' });
      api = await startApi(env);
      worker = await startWorker(env);
    });
    afterAll(async () => {
      await worker?.stop();
      await api?.close();
    });

    it(`refuses new jobs with a clear 429 once a user's tokens today reach ${TOKEN_BUDGET}, until midnight UTC`, async () => {
      const user = await registerUser(api.url);
      const queued = await http(api.url, 'POST', '/generate-content', { token: user.token, body: job('a short launch plan for a bakery') });
      expect(queued.status).toBe(202);
      const done = await jobWhen(api.url, user.token, queued.body.jobId, ['completed']);
      // The offline provider counts words: one outline is well past the budget.
      expect(done.usage.totalTokens).toBeGreaterThanOrEqual(TOKEN_BUDGET);

      // Wait without queueing anything (a probing POST that got through would add its own tokens): the usage
      // record and the day's counter are written by the same finish, the counter right after the record.
      await waitFor(
        async () => {
          const usage = (await http(api.url, 'GET', '/usage', { token: user.token })).body;
          return usage.total?.totalTokens === done.usage.totalTokens ? true : undefined;
        },
        'the job to be counted',
        5000,
      );
      // The day's counter comes right after the usage record: wait for it too, without queueing anything.
      const redis = new Redis(env.REDIS_URL);
      try {
        const counter = `${env.REDIS_PREFIX.replace(/[{}]/g, '')}:{u:${user.id}}:tokens:${new Date().toISOString().slice(0, 10)}`;
        await waitFor(async () => (Number(await redis.get(counter)) >= TOKEN_BUDGET ? true : undefined), 'the day counter to pass the budget', 5000);
      } finally {
        redis.disconnect();
      }
      const refused = await http(api.url, 'POST', '/generate-content', { token: user.token, body: job('another one') });
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ error: 'RATE_LIMITED', limitName: 'USER_DAILY_TOKEN_BUDGET', budget: TOKEN_BUDGET, used: done.usage.totalTokens });
      expect(refused.body.message).toBe(`You used your ${TOKEN_BUDGET} tokens for today (USER_DAILY_TOKEN_BUDGET); new jobs can start after 00:00 UTC`);
      const untilMidnight = (Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000 - Date.now()) / 1000;
      expect(Math.abs(Number(refused.headers.get('retry-after')) - untilMidnight)).toBeLessThanOrEqual(5);
      const batch = await http(api.url, 'POST', '/generate-content/batch', { token: user.token, body: { items: [job('batch item')] } });
      expect(batch.status).toBe(429);
      expect(batch.body.message).toMatch(/tokens for today/);

      // Another user's budget is their own.
      const other = await registerUser(api.url);
      expect((await http(api.url, 'POST', '/generate-content', { token: other.token, body: job('other') })).status).toBe(202);
    });
  });
});
