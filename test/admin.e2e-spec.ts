import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { connectSocket, disconnectAll, nextEvent, waitForDisconnect } from './support/socket';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

type User = { token: string; id: string; email: string; password: string };

/**
 * The admin API against the real services: roles from ADMIN_EMAILS, every admin route refused to
 * others, paging, a failed job retried through a real worker and the OpenRouter stand-in, and a
 * deactivation that cuts the user's sockets on two API instances.
 */
describe('Admin API (ADMIN_EMAILS, admin routes, retry through the worker, deactivation on 2 instances)', () => {
  const tag = randomBytes(3).toString('hex');
  const adminEmail = `boss-${tag}@example.com`;
  const promotedEmail = `promoted-${tag}@example.com`;
  let stub: OpenRouterStub;
  let env: Env;
  let api: RunningApi;
  let second: RunningApi | undefined;
  let worker: RunningWorker | undefined;
  let admin: User;
  let user: User;

  const as = (who: { token: string } | undefined, method: string, path: string, options: Parameters<typeof http>[3] = {}, base = api.url) =>
    http(base, method, path, { token: who?.token, ...options });
  const registerAs = async (email: string, name: string): Promise<User> => {
    const password = 'a-long-enough-password';
    const response = await http(api.url, 'POST', '/auth/register', { body: { name, email, password } });
    expect(response.status).toBe(201);
    return { token: response.body.token, id: response.body._id, email: email.toLowerCase(), password };
  };
  const enqueue = async (who: User, prompt: string): Promise<string> => {
    const response = await as(who, 'POST', '/generate-content', { body: { prompt, contentType: 'blog-post' } });
    expect(response.status).toBe(202);
    return response.body.jobId;
  };
  const jobOf = async (jobId: string) => (await as(admin, 'GET', `/admin/jobs/${jobId}`)).body;

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    env = testEnv('admin', {
      ...openRouterStubEnv(stub),
      // Case and spaces do not matter.
      ADMIN_EMAILS: ` ${adminEmail.toUpperCase()} , ops-${tag}@example.com`,
      MAX_ACTIVE_JOBS_PER_USER: '1',
      JOB_ATTEMPTS: '1',
      OPENROUTER_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '1000',
      RATE_LIMIT_DURATION_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
    });
    api = await startApi(env);
    admin = await registerAs(adminEmail, 'The Boss');
    user = await registerUser(api.url, `Plain ${tag}`);
  });

  afterAll(async () => {
    disconnectAll();
    await worker?.stop('SIGKILL');
    await second?.close();
    await api?.close();
    await stub?.close();
  });

  describe('roles', () => {
    it('makes the accounts of ADMIN_EMAILS admins at register, case-insensitively, and shows role in /auth/me', async () => {
      expect((await as(admin, 'GET', '/auth/me')).body).toMatchObject({ email: adminEmail, role: 'admin' });
      expect((await as(user, 'GET', '/auth/me')).body).toMatchObject({ role: 'user' });
    });

    it('refuses a role in the register body like any unknown field', async () => {
      const response = await http(api.url, 'POST', '/auth/register', {
        body: { name: 'Sneaky', email: `sneaky-${tag}@example.com`, password: 'a-long-enough-password', role: 'admin' },
      });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('role');
      expect(response.body.details).toEqual([{ field: 'role', errors: ['property role should not exist'] }]);
    });

    it('follows ADMIN_EMAILS at the next login: added becomes admin, removed becomes user again', async () => {
      const promoted = await registerAs(promotedEmail, 'Promoted');
      expect((await as(promoted, 'GET', '/auth/me')).body.role).toBe('user');
      // A second instance configured with the email listed (as after a redeploy that adds it).
      second = await startApi({ ...env, ADMIN_EMAILS: `${adminEmail},${promotedEmail}` });

      const login = await http(second.url, 'POST', '/auth/login', { body: { email: promotedEmail, password: promoted.password } });
      expect(login.status).toBe(200);
      // Both instances forget the cached role (the other one when Redis tells it): the same token is an admin's everywhere.
      const roleOn = (base: string, role: string) =>
        waitFor(async () => ((await as(promoted, 'GET', '/auth/me', {}, base)).body.role === role ? role : undefined), `the role ${role} on ${base}`);
      for (const base of [second.url, api.url]) expect(await roleOn(base, 'admin')).toBe('admin');
      expect((await as(promoted, 'GET', '/admin/stats')).status).toBe(200);

      expect((await http(api.url, 'POST', '/auth/login', { body: { email: promotedEmail, password: promoted.password } })).status).toBe(200);
      for (const base of [api.url, second.url]) expect(await roleOn(base, 'user')).toBe('user');
      expect((await as(promoted, 'GET', '/admin/stats')).status).toBe(403);
    });
  });

  describe('access', () => {
    const routes: [string, string][] = [
      ['GET', '/admin/jobs'],
      ['GET', '/admin/jobs/0b5f3a52-1c1e-4a8e-9a0b-2a1f4f6b7c01'],
      ['POST', '/admin/jobs/0b5f3a52-1c1e-4a8e-9a0b-2a1f4f6b7c01/retry'],
      ['GET', '/admin/stats'],
      ['GET', '/admin/users'],
      ['POST', '/admin/users/64b7f0c2a1b2c3d4e5f60718/deactivate'],
      ['POST', '/admin/users/64b7f0c2a1b2c3d4e5f60718/activate'],
    ];

    it.each(routes)('%s %s is 401 without a token and 403 for a user who is not an admin', async (method, path) => {
      expect((await as(undefined, method, path)).status).toBe(401);
      const refused = await as(user, method, path);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: 'FORBIDDEN', message: 'Admins only' });
    });

    it('documents every admin route in the OpenAPI document', async () => {
      const paths = Object.keys((await http(api.url, 'GET', '/docs-json')).body.paths);
      expect(paths).toEqual(
        expect.arrayContaining(['/admin/jobs', '/admin/jobs/{jobId}', '/admin/jobs/{jobId}/retry', '/admin/stats', '/admin/users', '/admin/users/{id}/deactivate', '/admin/users/{id}/activate']),
      );
    });
  });

  describe('jobs', () => {
    let other: User;

    it('lists every user’s jobs newest first, filtered by user and status, page by page', async () => {
      other = await registerUser(api.url, 'Other');
      // No worker yet: both stay queued (each user is at MAX_ACTIVE_JOBS_PER_USER=1).
      const mine = await enqueue(user, `List ${tag}: mine`);
      const theirs = await enqueue(other, `List ${tag}: theirs`);

      const all = await as(admin, 'GET', '/admin/jobs?limit=100');
      expect(all.status).toBe(200);
      const ids = all.body.map((job: { jobId: string }) => job.jobId);
      expect(ids.indexOf(theirs)).toBeLessThan(ids.indexOf(mine));
      expect(ids.indexOf(mine)).toBeGreaterThanOrEqual(0);

      const firstPage = await as(admin, 'GET', `/admin/jobs?userId=${user.id}&status=queued&limit=1`);
      expect(firstPage.body).toEqual([expect.objectContaining({ jobId: mine, userId: user.id, status: 'queued', correlationId: expect.any(String) })]);
      expect(JSON.stringify(firstPage.body)).not.toContain('idempotencyKey');

      const both = await as(admin, 'GET', '/admin/jobs?status=queued&limit=1');
      const cursor = both.headers.get('x-next-cursor');
      expect(cursor).toBeTruthy();
      const link = /^<([^>]+)>; rel="next"$/.exec(both.headers.get('link') ?? '');
      expect(link?.[1]).toMatch(/^jobs\?/);
      const next = await as(admin, 'GET', `/admin/${link![1]}`);
      expect(next.status).toBe(200);
      expect(next.body[0].jobId).not.toBe(both.body[0].jobId);
      expect(new Date(next.body[0].createdAt).getTime()).toBeLessThanOrEqual(new Date(both.body[0].createdAt).getTime());
    });

    it.each([
      ['status=bogus', 'status'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['userId=not-an-id', 'userId'],
      ['cursor=garbage', 'cursor'],
      ['owner=me', 'owner'],
    ])('answers 400 naming the field to ?%s', async (query, field) => {
      const response = await as(admin, 'GET', `/admin/jobs?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.message).toContain(field);
    });

    it('reads any user’s job, and 404 for an unknown one', async () => {
      const [theirs] = (await as(admin, 'GET', `/admin/jobs?userId=${other.id}`)).body;
      expect((await as(admin, 'GET', `/admin/jobs/${theirs.jobId}`)).body).toMatchObject({ jobId: theirs.jobId, userId: other.id });
      expect((await as(admin, 'GET', '/admin/jobs/0b5f3a52-1c1e-4a8e-9a0b-2a1f4f6b7c01')).status).toBe(404);
    });

    it('refuses to retry a job that is not failed (409 with its status) or unknown (404)', async () => {
      const [queued] = (await as(admin, 'GET', `/admin/jobs?userId=${other.id}`)).body;
      const refused = await as(admin, 'POST', `/admin/jobs/${queued.jobId}/retry`);
      expect(refused.status).toBe(409);
      expect(refused.body.currentStatus).toBe('queued');
      expect((await as(admin, 'POST', '/admin/jobs/0b5f3a52-1c1e-4a8e-9a0b-2a1f4f6b7c01/retry')).status).toBe(404);
    });

    it('retries a failed job: 429 while its owner is at the cap, then queued again under the same jobId, and it completes', async () => {
      // Every provider call fails for good (400) until the stand-in is told otherwise.
      stub.setDefault({ kind: 'status', status: 400, message: 'Provider refused' });
      worker = await startWorker(env);
      const owner = await registerUser(api.url, 'Retry owner');
      const socket: Socket = await connectSocket(api.url, owner.token);
      const jobId = await enqueue(owner, `Retry ${tag}: a launch post`);
      const failed = await nextEvent(socket, 'job_completed', (payload) => payload.jobId === jobId, 20_000);
      expect(failed.payload).toMatchObject({ status: 'failed' });
      // The jobs queued before the worker started fail the same way.
      await waitFor(async () => ((await as(admin, 'GET', '/admin/jobs?status=queued')).body.length === 0 ? true : undefined), 'earlier jobs to finish', 20_000);

      // The owner's one slot is taken by a job whose provider call hangs (until OPENROUTER_TIMEOUT_MS, then it fails).
      const busy = await enqueue(owner, `Retry ${tag}: busy [[stub:respond=hang]]`);
      await nextEvent(socket, 'job_status', (payload) => payload.jobId === busy && payload.status === 'processing', 20_000);
      const atCap = await as(admin, 'POST', `/admin/jobs/${jobId}/retry`);
      expect(atCap.status).toBe(429);
      expect((await jobOf(jobId)).status).toBe('failed');
      await nextEvent(socket, 'job_completed', (payload) => payload.jobId === busy, 20_000);

      stub.setDefault(undefined);
      const retried = await as(admin, 'POST', `/admin/jobs/${jobId}/retry`);
      expect(retried.status).toBe(202);
      expect(retried.body).toEqual({ message: 'Job queued again', jobId, status: 'queued', retries: 1 });
      await nextEvent(socket, 'job_status', (payload) => payload.jobId === jobId && payload.status === 'queued', 20_000);
      const completed = await nextEvent(socket, 'job_completed', (payload) => payload.jobId === jobId, 20_000);
      expect(completed.payload).toMatchObject({ jobId, status: 'completed', generatedContent: expect.stringContaining('Stub answer for') });
      expect(await jobOf(jobId)).toMatchObject({ status: 'completed', retries: 1, attempts: 2 });
      expect((await as(owner, 'GET', `/generate-content/${jobId}`)).body).toMatchObject({ status: 'completed' });

      const again = await as(admin, 'POST', `/admin/jobs/${jobId}/retry`);
      expect(again.status).toBe(409);
      expect(again.body.currentStatus).toBe('completed');
    });

    it('reports queue counts, the last 24 h, durations, workers and the rate limit', async () => {
      const stats = await as(admin, 'GET', '/admin/stats');
      expect(stats.status).toBe(200);
      expect(stats.body).toMatchObject({
        queue: expect.objectContaining({ waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number) }),
        workers: 1,
        rateLimit: { max: 1000, durationMs: 1000 },
      });
      expect(stats.body.finishedLast24h.completed).toBeGreaterThanOrEqual(1);
      expect(stats.body.finishedLast24h.failed).toBeGreaterThanOrEqual(3);
      expect(stats.body.durationMs).toEqual({ p50: expect.any(Number), p95: expect.any(Number), sampleSize: expect.any(Number) });
      expect(stats.body.durationMs.p95).toBeGreaterThanOrEqual(stats.body.durationMs.p50);
    });
  });

  describe('users', () => {
    it('lists users matching a search in name or email, paged, never with password hashes', async () => {
      const response = await as(admin, 'GET', `/admin/users?search=${encodeURIComponent(tag)}&limit=1`);
      expect(response.status).toBe(200);
      expect(response.body).toHaveLength(1);
      const seen = [response.body[0].email];
      let cursor = response.headers.get('x-next-cursor');
      while (cursor) {
        const page = await as(admin, 'GET', `/admin/users?search=${encodeURIComponent(tag)}&limit=1&cursor=${cursor}`);
        seen.push(...page.body.map((found: { email: string }) => found.email));
        cursor = page.headers.get('x-next-cursor');
      }
      // Matched by email (the admin, the promoted one) and by name (the plain user).
      expect(seen).toEqual(expect.arrayContaining([adminEmail, promotedEmail, user.email]));
      expect(JSON.stringify(response.body)).not.toMatch(/passwordHash|\$2[aby]\$/);
      expect(response.body[0]).toEqual(expect.objectContaining({ _id: expect.any(String), role: expect.any(String), status: 'active' }));
    });

    it('answers 400 naming the field to a bad limit', async () => {
      const response = await as(admin, 'GET', '/admin/users?limit=1000');
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('limit');
    });

    it('deactivates a user: refused and its sockets disconnected on both instances; activates it again', async () => {
      const target = await registerUser(api.url, 'Target');
      const sockets = [await connectSocket(api.url, target.token), await connectSocket(second!.url, target.token)];
      const bystander = await connectSocket(second!.url, user.token);

      // Listen before deactivating: the disconnect may come before the admin's answer.
      const disconnects = Promise.all(sockets.map((socket) => waitForDisconnect(socket, 10_000)));
      const deactivated = await as(admin, 'POST', `/admin/users/${target.id}/deactivate`);
      expect(deactivated.status).toBe(200);
      expect(deactivated.body).toEqual({ _id: target.id, status: 'inactive' });

      expect(await disconnects).toEqual(['io server disconnect', 'io server disconnect']);
      for (const base of [api.url, second!.url]) expect((await as(target, 'GET', '/auth/me', {}, base)).status).toBe(401);
      expect(bystander.connected).toBe(true);

      expect((await as(admin, 'POST', `/admin/users/${target.id}/activate`)).body).toEqual({ _id: target.id, status: 'active' });
      for (const base of [api.url, second!.url]) expect((await as(target, 'GET', '/auth/me', {}, base)).status).toBe(200);
      expect((await as(admin, 'POST', '/admin/users/64b7f0c2a1b2c3d4e5f60799/deactivate')).status).toBe(404);
    });
  });
});
