import { join } from 'node:path';
import { startFerretDb, stopProcess } from '../scripts/services';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { JobStateProbe } from './support/job-state';
import { Env, testEnv } from './support/test-env';

/** README promises about the HTTP API that no other spec checks. */
describe('README promises: HTTP API', () => {
  describe('GET /generate-content?limit= and a malformed Idempotency-Key', () => {
    let env: Env;
    let api: RunningApi;
    let probe: JobStateProbe;

    beforeAll(async () => {
      // A long delay and no worker: every job stays queued.
      env = testEnv('readme-http', { JOB_DELAY_MS: '600000', MAX_ACTIVE_JOBS_PER_USER: '200' });
      api = await startApi(env);
      probe = new JobStateProbe(env);
    });
    afterAll(async () => {
      probe?.close();
      await api?.close();
    });

    it('lists every job without limit (issue 11: clients send none and expect all), up to limit with it, newest first, and refuses a limit outside 1..100 naming it', async () => {
      const user = await registerUser(api.url);
      const jobIds: string[] = [];
      for (let i = 0; i < 101; i++) {
        const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: `listed ${i}`, contentType: 'blog-post' } });
        expect(response.status).toBe(202);
        jobIds.push(response.body.jobId);
      }
      const newestFirst = [...jobIds].reverse();
      const list = async (query: string) => http(api.url, 'GET', `/generate-content${query}`, { token: user.token });

      const byDefault = await list('');
      expect(byDefault.status).toBe(200);
      expect(byDefault.body.map((job: { jobId: string }) => job.jobId)).toEqual(newestFirst);
      expect(byDefault.headers.get('link')).toBeNull();
      expect((await list('?limit=3')).body.map((job: { jobId: string }) => job.jobId)).toEqual(newestFirst.slice(0, 3));
      expect((await list('?limit=1')).body).toHaveLength(1);
      expect((await list('?limit=100')).body.map((job: { jobId: string }) => job.jobId)).toEqual(newestFirst.slice(0, 100));

      for (const bad of ['0', '101', '-1', '2.5', 'abc']) {
        const refused = await list(`?limit=${bad}`);
        expect({ limit: bad, status: refused.status }).toEqual({ limit: bad, status: 400 });
        expect(refused.body.message).toContain('limit');
      }
    }, 60_000);

    it.each([
      ['with a space', 'not a key'],
      ['with a slash', 'a/b'],
      ['of 129 characters', 'k'.repeat(129)],
    ])('answers 400 naming Idempotency-Key for a key %s, and queues nothing', async (_name, key) => {
      const user = await registerUser(api.url);
      const response = await http(api.url, 'POST', '/generate-content', {
        token: user.token,
        body: { prompt: 'keyed', contentType: 'blog-post' },
        headers: { 'Idempotency-Key': key },
      });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('Idempotency-Key');
      expect(response.body.details).toEqual([{ field: 'Idempotency-Key', errors: [expect.any(String)] }]);
      expect((await http(api.url, 'GET', '/generate-content', { token: user.token })).body).toEqual([]);
      expect(await probe.slotCount(user.id)).toBe(0);
      // A well-formed key at its longest is accepted.
      const accepted = await http(api.url, 'POST', '/generate-content', {
        token: user.token,
        body: { prompt: 'keyed', contentType: 'blog-post' },
        headers: { 'Idempotency-Key': `Aa0_.:-${'k'.repeat(121)}` },
      });
      expect(accepted.status).toBe(202);
    });

    it('answers every request with an X-Request-Id: a fresh one of its own, or the caller\'s when it is sane', async () => {
      const generated = await Promise.all([1, 2, 3].map(() => http(api.url, 'GET', '/health')));
      const ids = generated.map((response) => response.headers.get('x-request-id'));
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(new Set(ids).size).toBe(3);
      const kept = await http(api.url, 'GET', '/health', { headers: { 'x-request-id': 'caller-id.42:a_b-c' } });
      expect(kept.headers.get('x-request-id')).toBe('caller-id.42:a_b-c');
      const replaced = await http(api.url, 'GET', '/health', { headers: { 'x-request-id': 'no spaces "or quotes"' } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('a dependency that is down answers 503 with Retry-After', () => {
    const expectRetryLater = (response: { status: number; headers: Headers; body: { message?: unknown } }) => {
      expect(response.status).toBe(503);
      expect(response.body.message).toEqual(expect.any(String));
      const retryAfter = response.headers.get('retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    };

    it('Redis down: login and enqueue', async () => {
      const env = testEnv('readme-retry-redis');
      const healthy = await startApi(env);
      let user: Awaited<ReturnType<typeof registerUser>>;
      try {
        user = await registerUser(healthy.url);
      } finally {
        await healthy.close();
      }
      // The same database and secret, Redis on a closed port.
      const api = await startApi({ ...env, REDIS_URL: 'redis://127.0.0.1:1' });
      try {
        expectRetryLater(await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } }));
        expectRetryLater(await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'x', contentType: 'blog-post' } }));
        expect((await http(api.url, 'GET', '/health/ready')).status).toBe(503);
        // A healthy answer does not carry it.
        const alive = await http(api.url, 'GET', '/health');
        expect(alive.status).toBe(200);
        expect(alive.headers.get('retry-after')).toBeNull();
      } finally {
        await api.close();
      }
    });

    it('MongoDB down: reads and enqueue', async () => {
      const ferretdb = await startFerretDb({ dataDir: join(process.env.TEST_TMP_DIR!, `readme-retry-mongo-${Date.now()}`) });
      const api = await startApi(testEnv('readme-retry-mongo', { MONGO_URI: `${ferretdb.uri}/readme_retry` }));
      try {
        const user = await registerUser(api.url);
        expect((await http(api.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);
        await stopProcess(ferretdb.child, 'SIGKILL');
        expectRetryLater(await http(api.url, 'GET', '/generate-content', { token: user.token }));
        expectRetryLater(await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'x', contentType: 'blog-post' } }));
        expect((await http(api.url, 'GET', '/health/ready')).status).toBe(503);
      } finally {
        await api.close();
        await stopProcess(ferretdb.child);
      }
    }, 60_000);
  });
});
