import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, startFerretDb, startRedis, stopProcess } from '../scripts/services';
import { UserCache } from '../libs/auth/src/user-cache.service';
import { http, registerUser, startApi } from './support/api';
import { testEnv } from './support/test-env';
import { startWorker, waitFor } from './support/worker';

const timed = async <T>(work: () => Promise<T>) => {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
};

describe('Failing fast and recovering when a dependency goes away', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(process.env.TEST_TMP_DIR!, 'resilience-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('answers 503 within about 2 s while MongoDB is down and recovers when it returns', async () => {
    const dataDir = tempDir();
    let ferretdb = await startFerretDb({ dataDir });
    const api = await startApi(testEnv('mongo-down', { MONGO_URI: `${ferretdb.uri}/resilience` }));
    try {
      const user = await registerUser(api.url);
      // The cache keeps users only once it hears invalidations (its Redis channel connects after start-up).
      const cache = api.app.get(UserCache) as unknown as { listening: boolean };
      await waitFor(async () => (cache.listening ? true : undefined), 'the user cache to listen');
      expect((await http(api.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);
      await stopProcess(ferretdb.child, 'SIGKILL');

      const ready = await timed(() => http(api.url, 'GET', '/health/ready'));
      expect(ready.result.status).toBe(503);
      expect(ready.result.body.checks).toEqual({ mongodb: 'down', redis: 'up' });
      expect(ready.ms).toBeLessThan(5000); // "not a hang", generous for a loaded machine
      const jobs = await timed(() => http(api.url, 'GET', '/generate-content', { token: user.token }));
      expect(jobs.result.status).toBe(503);
      expect(jobs.result.body.message).toEqual(expect.any(String));
      expect(jobs.ms).toBeLessThan(5000);
      // Authentication needs no database read: the user is remembered from the request before the outage.
      expect((await http(api.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);

      ferretdb = await startFerretDb({ dataDir, port: ferretdb.port });
      await waitFor(async () => ((await http(api.url, 'GET', '/health/ready')).status === 200 ? true : undefined), 'readiness after restart', 30_000, 250);
      expect((await http(api.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);
    } finally {
      await api.close();
      await stopProcess(ferretdb.child);
    }
  });

  it('answers 503 at once while Redis is down and recovers when it returns', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    let redis = await startRedis({ port, dataDir });
    const env = testEnv('redis-down', { REDIS_URL: `redis://127.0.0.1:${port}` });
    const api = await startApi(env);
    try {
      const user = await registerUser(api.url);
      await stopProcess(redis, 'SIGKILL');

      const ready = await timed(() => http(api.url, 'GET', '/health/ready'));
      expect(ready.result.status).toBe(503);
      expect(ready.result.body.checks).toEqual({ mongodb: 'up', redis: 'down' });
      const login = await timed(() => http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } }));
      expect(login.result.status).toBe(503);
      expect(login.ms).toBeLessThan(5000);
      const enqueue = await timed(() => http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'x', contentType: 'blog-post' } }));
      expect(enqueue.result.status).toBe(503);
      expect(enqueue.ms).toBeLessThan(5000);
      expect((await http(api.url, 'GET', '/generate-content', { token: user.token })).body).toEqual([]);

      redis = await startRedis({ port, dataDir });
      await waitFor(async () => ((await http(api.url, 'GET', '/health/ready')).status === 200 ? true : undefined), 'readiness after restart', 15_000, 250);
      expect((await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
      await waitFor(
        async () => ((await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'y', contentType: 'blog-post' } })).status === 202 ? true : undefined),
        'enqueue after Redis restart',
        10_000,
        250,
      );
    } finally {
      await api.close();
      await stopProcess(redis);
    }
  });

  it('keeps a worker running through a Redis restart: it resumes by itself', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    let redis = await startRedis({ port, dataDir });
    const env = testEnv('worker-redis-restart', { REDIS_URL: `redis://127.0.0.1:${port}` });
    const api = await startApi(env);
    const worker = await startWorker(env);
    const completes = async (user: { token: string }, prompt: string) => {
      const accepted = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
      expect(accepted.status).toBe(202);
      await waitFor(async () => {
        const job = await http(api.url, 'GET', `/generate-content/${accepted.body.jobId}`, { token: user.token });
        return job.body.status === 'completed' ? true : undefined;
      }, `${prompt} to complete`, 40_000, 100);
    };
    try {
      const user = await registerUser(api.url);
      await completes(user, 'before the restart');
      await stopProcess(redis, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      redis = await startRedis({ port, dataDir });
      await waitFor(async () => ((await http(api.url, 'GET', '/health/ready')).status === 200 ? true : undefined), 'readiness after restart', 15_000, 250);
      await completes(user, 'after the restart');
      expect(worker.child.exitCode).toBeNull();
    } finally {
      await worker.stop();
      await api.close();
      await stopProcess(redis);
    }
  }, 90_000);

  it('answers 503 on readiness when Redis is on a closed port from the start', async () => {
    const api = await startApi(testEnv('redis-closed', { REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      const ready = await http(api.url, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.redis).toBe('down');
      expect((await http(api.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('Configuration validation at start-up', () => {
  const runApi = (env: Record<string, string>) =>
    spawnSync(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
      env: { PATH: process.env.PATH!, ...testEnv('config'), PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it.each([
    ['PORT', { PORT: 'abc' }, /PORT must be an integer/],
    ['BCRYPT_ROUNDS', { BCRYPT_ROUNDS: '99' }, /BCRYPT_ROUNDS must be an integer between 4 and 15/],
    ['REDIS_URL', { REDIS_URL: 'http://nope' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    ['JWT_SECRET', { NODE_ENV: 'production', JWT_SECRET: '' }, /JWT_SECRET is required when NODE_ENV=production/],
    ['JWT_SECRET', { NODE_ENV: 'production', JWT_SECRET: 'your_super_secret_key_change_this' }, /JWT_SECRET must be at least 32 random bytes/],
  ])('stops with one clear line naming %s', (_name, env, message) => {
    const run = runApi(env);
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: /);
    expect(lines[0]).toMatch(message);
  });
});
