import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Browser, BrowserContext, chromium } from 'playwright-core';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SESSION_COOKIE = 'aicg_admin_session';

type User = { token: string; id: string; email: string; password: string };
const PASSWORD = 'a-long-enough-password';

/**
 * The queue board in a real browser (Debian's chromium through playwright-core): an admin signs in on the
 * board's sign-in page (session cookie), finds a failed job on the board and retries it from the UI; the
 * retry goes through the product's retry (record, ledger, slot) and the worker completes the job. Others
 * get 401 and 403.
 */
describe('Queue board (/admin/queues) in a browser: admin session cookie, a failed job retried from the UI', () => {
  const tag = randomBytes(3).toString('hex');
  const adminEmail = `board-${tag}@example.com`;
  const secondAdminEmail = `board-ops-${tag}@example.com`;
  let stub: OpenRouterStub;
  let env: Env;
  let api: RunningApi;
  let worker: RunningWorker | undefined;
  let browser: Browser | undefined;
  let admin: User;
  let user: User;

  const sessionCookieOf = (response: { headers: Headers }): string => {
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toContain(`${SESSION_COOKIE}=`);
    return cookie.split(';')[0];
  };
  const jobOf = async (jobId: string) => (await http(api.url, 'GET', `/admin/jobs/${jobId}`, { token: admin.token })).body;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`The browser test needs Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y --no-install-recommends chromium\` (or set CHROMIUM_PATH)`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    stub = await startOpenRouterStub();
    env = testEnv('admin-board', {
      ...openRouterStubEnv(stub),
      ADMIN_EMAILS: `${adminEmail},${secondAdminEmail}`,
      JOB_ATTEMPTS: '1',
      RATE_LIMIT_MAX: '1000',
      RATE_LIMIT_DURATION_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
    });
    api = await startApi(env);
    const registered = await http(api.url, 'POST', '/auth/register', { body: { name: 'Board admin', email: adminEmail, password: PASSWORD } });
    expect(registered.status).toBe(201);
    admin = { token: registered.body.token, id: registered.body._id, email: adminEmail, password: PASSWORD };
    user = await registerUser(api.url, `Plain ${tag}`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.stop('SIGKILL');
    await api?.close();
    await stub?.close();
  });

  it('answers 401 to anonymous visitors and 403 to users who are not admins, on the page, its API and its files', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/images/logo.svg']) {
      expect((await http(api.url, 'GET', path)).status).toBe(401);
      expect((await http(api.url, 'GET', path, { token: user.token })).status).toBe(403);
    }
    expect((await http(api.url, 'POST', '/admin/session')).status).toBe(401);
    expect((await http(api.url, 'POST', '/admin/session', { token: user.token })).status).toBe(403);
    // Scripts may use an admin's bearer token; the board shows the generation and maintenance queues.
    const queues = await http(api.url, 'GET', '/admin/queues/api/queues', { token: admin.token });
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((queue: { name: string }) => queue.name)).toEqual(expect.arrayContaining(['content-generation', 'maintenance']));
    // A browser without a session is pointed to the sign-in page (still 401).
    const page = await http(api.url, 'GET', '/admin/queues', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(page.body).toContain('href="/admin/queues/login"');
  });

  it('sets a short-lived HttpOnly, SameSite=Strict cookie on /admin that is not the token and that only the board accepts', async () => {
    const opened = await http(api.url, 'POST', '/admin/session', { token: admin.token });
    expect(opened.status).toBe(204);
    const header = opened.headers.get('set-cookie') ?? '';
    expect(header).toMatch(/HttpOnly/i);
    expect(header).toMatch(/SameSite=Strict/i);
    expect(header).toMatch(/Path=\/admin(;|$)/);
    expect(header).toMatch(/Max-Age=900/);
    expect(header).not.toMatch(/Secure/i);
    const cookie = sessionCookieOf(opened);
    const value = cookie.slice(SESSION_COOKIE.length + 1);
    expect(value).not.toBe(admin.token);

    const board = await http(api.url, 'GET', '/admin/queues', { headers: { cookie } });
    expect(board.status).toBe(200);
    expect(board.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The REST API stays bearer-only: neither the cookie nor its value as a bearer token opens it.
    expect((await http(api.url, 'GET', '/admin/stats', { headers: { cookie } })).status).toBe(401);
    expect((await http(api.url, 'GET', '/admin/stats', { token: value })).status).toBe(401);
    expect((await http(api.url, 'GET', '/auth/me', { token: value })).status).toBe(401);
    // The strict API policy everywhere else.
    expect((await http(api.url, 'GET', '/health')).headers.get('content-security-policy')).toContain("default-src 'none'");

    // State changes with the cookie come from the board's own pages only.
    const crossSite = await http(api.url, 'PUT', '/admin/queues/api/queues/maintenance/pause', { headers: { cookie, origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    const noOrigin = await http(api.url, 'PUT', '/admin/queues/api/queues/maintenance/pause', { headers: { cookie } });
    expect(noOrigin.status).toBe(403);
    const fetchSite = await http(api.url, 'PUT', '/admin/queues/api/queues/maintenance/pause', { headers: { cookie, 'sec-fetch-site': 'cross-site', origin: api.url } });
    expect(fetchSite.status).toBe(403);

    const closed = await http(api.url, 'DELETE', '/admin/session', { headers: { cookie } });
    expect(closed.status).toBe(204);
    expect(closed.headers.get('set-cookie')).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Path=/admin`));
  });

  it('refuses a session whose admin was deactivated since (401), and a bearer token given as the cookie', async () => {
    const registered = await http(api.url, 'POST', '/auth/register', { body: { name: 'Second admin', email: secondAdminEmail, password: 'a-long-enough-password' } });
    const cookie = sessionCookieOf(await http(api.url, 'POST', '/admin/session', { token: registered.body.token }));
    expect((await http(api.url, 'GET', '/admin/queues/api/queues', { headers: { cookie } })).status).toBe(200);
    expect((await http(api.url, 'POST', `/admin/users/${registered.body._id}/deactivate`, { token: admin.token })).status).toBe(200);
    expect((await http(api.url, 'GET', '/admin/queues/api/queues', { headers: { cookie } })).status).toBe(401);
    expect((await http(api.url, 'GET', '/admin/queues', { headers: { cookie: `${SESSION_COOKIE}=${admin.token}` } })).status).toBe(401);
  });

  it('shows a failed job on the board; Retry in the UI queues it again through the product and the worker completes it', async () => {
    worker = await startWorker(env);
    const enqueued = await http(api.url, 'POST', '/generate-content', {
      token: admin.token,
      body: { prompt: `Board ${tag}: a launch post [[stub:sequence=500,ok]]`, contentType: 'blog-post' },
    });
    expect(enqueued.status).toBe(202);
    const jobId: string = enqueued.body.jobId;
    await waitFor(async () => ((await jobOf(jobId)).status === 'failed' ? true : undefined), `job ${jobId} to fail`, 30_000);

    const context: BrowserContext = await browser!.newContext({ baseURL: api.url });
    try {
      const page = await context.newPage();
      expect((await page.goto('/admin/queues'))?.status()).toBe(401);
      // The sign-in page logs in over the API and posts the token to /admin/session; a user who is not an admin is told so.
      await page.goto('/admin/queues/login');
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('This account is not an admin').waitFor();
      await page.getByLabel('Email').fill(adminEmail);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/admin/queues');
      expect((await page.goto('/admin/queues/queue/content-generation?status=failed'))?.status()).toBe(200);
      // The job's header on the board: its id (a link to the job) and its actions, the first of which is Retry.
      const header = page.locator('div[class^="header-"]', { has: page.locator(`a[href*="${jobId}"]`) });
      await header.getByText(jobId).waitFor();
      await header.locator('button:has(svg.lucide-refresh-cw)').click();
      const confirm = page.getByRole('alertdialog');
      await confirm.getByText('retry this job').waitFor();
      await confirm.getByRole('button', { name: 'Confirm' }).click();

      // The product's retry ran: the record counts it and the worker completed the job (a raw BullMQ retry would be dropped as done).
      await waitFor(async () => ((await jobOf(jobId)).status === 'completed' ? true : undefined), `job ${jobId} to complete after the board's retry`, 30_000);
      expect(await jobOf(jobId)).toMatchObject({ status: 'completed', retries: 1, attempts: 2 });
      await page.goto('/admin/queues/queue/content-generation?status=completed');
      await page.locator(`a[href*="${jobId}"]`).first().waitFor();

      // The board's writes on the generation queue: a retry of a job that is not failed is refused as the admin API refuses it,
      // and writes that would bypass the product are refused (read-only for them).
      const board = (method: string, path: string, body?: unknown) => http(api.url, method, `/admin/queues/api/queues/content-generation${path}`, { token: admin.token, body });
      expect((await board('PUT', `/${jobId}/retry`)).status).toBe(409);
      expect((await board('PUT', '/retry/completed')).status).toBe(405);
      expect((await board('POST', '/add', { name: 'generate', data: { jobId } })).status).toBe(405);
      expect((await board('PATCH', `/${jobId}/update-data`, { data: {} })).status).toBe(405);
      expect((await board('PUT', '/empty')).status).toBe(405);
      expect(await jobOf(jobId)).toMatchObject({ status: 'completed', retries: 1 });

      // Retry all (failed) on the board: every failed job through the product's retry too.
      const failing = await Promise.all(
        [1, 2].map(async (n) => {
          const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: `Board ${tag} ${n} [[stub:sequence=500,ok]]`, contentType: 'blog-post' } });
          expect(response.status).toBe(202);
          return response.body.jobId as string;
        }),
      );
      for (const id of failing) await waitFor(async () => ((await jobOf(id)).status === 'failed' ? true : undefined), `job ${id} to fail`, 30_000);
      const retriedAll = await board('PUT', '/retry/failed');
      expect(retriedAll.status).toBe(200);
      expect(retriedAll.body.retried).toBeGreaterThanOrEqual(2);
      for (const id of failing) await waitFor(async () => ((await jobOf(id)).status === 'completed' ? true : undefined), `job ${id} to complete after Retry all`, 30_000);
      for (const id of failing) expect(await jobOf(id)).toMatchObject({ status: 'completed', retries: 1 });

      // Signing out clears the cookie: the board is closed again.
      expect((await page.request.delete('/admin/session')).status()).toBe(204);
      expect((await page.goto('/admin/queues'))?.status()).toBe(401);
    } finally {
      await context.close();
    }
  }, 90_000);
});
