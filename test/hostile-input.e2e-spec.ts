import { randomBytes, randomUUID } from 'node:crypto';
import { appConfig, ConfigValidationError } from '@app/config';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { applyEnv, testEnv } from './support/test-env';

type User = Awaited<ReturnType<typeof registerUser>>;

const MAX_DEPTH = 32;
const item = { title: 'A title', type: 'Blog Post Outline', body: 'Some body' };

/** `{"<field>": [[...]]}` nested `depth` levels in all, built as text (JSON.stringify recurses). */
function nestedBody(field: string, depth: number): string {
  return `{"${field}":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

/** A JSON object with one more key, as text: `{ __proto__: ... }` in a literal would set the prototype instead. */
function withKey(body: object, key: string): string {
  return `${JSON.stringify(body).slice(0, -1)}${Object.keys(body).length ? ',' : ''}${JSON.stringify(key)}:"x"}`;
}

function expectFieldError(response: { status: number; body: any }, field: string): void {
  expect(response.status).toBe(400);
  expect(typeof response.body.message).toBe('string');
  expect(response.body.message).toContain(field);
  expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
}

describe('Hostile input is a 4xx (HTTP through the real app)', () => {
  let api: RunningApi;
  let user: User;
  let itemId: string;
  const call = (method: string, path: string, options?: Parameters<typeof http>[3]) => http(api.url, method, path, options);

  /** Every route that takes a JSON body, with a body it accepts. */
  const jsonRoutes = () => [
    { method: 'POST', path: '/auth/register', body: { name: 'N', email: `r${randomUUID()}@example.com`, password: 'password-1' } },
    { method: 'POST', path: '/auth/login', body: { email: user.email, password: user.password } },
    { method: 'POST', path: '/content', body: item },
    { method: 'PUT', path: `/content/${itemId}`, body: { title: 'Renamed' } },
    { method: 'POST', path: '/generate-content', body: { prompt: 'A prompt', contentType: 'blog-post' } },
    { method: 'POST', path: `/generate-content/${randomUUID()}/save`, body: { title: 'Kept' } },
  ];

  beforeAll(async () => {
    api = await startApi(testEnv('hostile'));
    user = await registerUser(api.url);
    const created = await call('POST', '/content', { token: user.token, body: item });
    itemId = created.body._id;
  });
  afterAll(() => api.close());

  describe('an email with a lone surrogate', () => {
    it.each([
      ['/auth/register', { name: 'N', password: 'password-1' }],
      ['/auth/login', { password: 'password-1' }],
    ])('is a 400 naming email on %s', async (path, rest) => {
      for (const email of ['x\ud800y@a.com', 'x\udfffy@a.com', '\ud800@example.com']) {
        expectFieldError(await call('POST', path, { body: { ...rest, email } }), 'email');
      }
    });

    it('leaves well-formed astral characters in the other fields alone', async () => {
      const response = await call('POST', '/auth/register', { body: { name: 'Émoji 😀', email: `ok${randomUUID()}@example.com`, password: 'password-😀' } });
      expect(response.status).toBe(201);
    });
  });

  describe('deeply nested JSON', () => {
    it.each([10_000, 1_000, MAX_DEPTH + 1])('is a 400 on every JSON route at %i levels', async (depth) => {
      for (const route of jsonRoutes()) {
        const response = await call(route.method, route.path, { token: user.token, rawBody: nestedBody(Object.keys(route.body)[0], depth) });
        expect({ route: route.path, status: response.status }).toEqual({ route: route.path, status: 400 });
        expect(response.body.message).toBe(`Body is nested deeper than ${MAX_DEPTH} levels`);
      }
    });

    it(`parses ${MAX_DEPTH} levels, and then validation names the field`, async () => {
      const response = await call('POST', '/content', { token: user.token, rawBody: nestedBody('title', MAX_DEPTH) });
      expect(response.status).toBe(400);
      expect(response.body.message).not.toMatch(/nested/);
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toEqual(expect.arrayContaining(['title']));
    });

    it('does not count brackets inside strings', async () => {
      const title = `${'[{'.repeat(45)}"\\${'}]'.repeat(45)}`;
      const response = await call('POST', '/content', { token: user.token, body: { ...item, title } });
      expect(response.status).toBe(201);
      expect(response.body.title).toBe(title);
    });
  });

  describe('a NUL byte in the search', () => {
    it('is searched for as text, never a 500', async () => {
      const withNul = await call('POST', '/content', { token: user.token, body: { ...item, title: 'before\u0000after' } });
      expect(withNul.status).toBe(201);
      const bare = await call('GET', '/content?search=%00', { token: user.token });
      expect(bare.status).toBe(200);
      expect(bare.body.map((entry: { _id: string }) => entry._id)).toEqual([withNul.body._id]);
      const inside = await call('GET', '/content?search=e%00a', { token: user.token });
      expect(inside.body.map((entry: { _id: string }) => entry._id)).toEqual([withNul.body._id]);
      expect((await call('GET', '/content?search=%00%00', { token: user.token })).body).toEqual([]);
    });
  });

  describe('keys that name prototype properties', () => {
    const keys = ['constructor', '__proto__', 'prototype', 'hasOwnProperty', 'toString'];

    it.each(keys)('%s is refused like any unknown field on every JSON route', async (key) => {
      for (const route of jsonRoutes()) {
        const response = await call(route.method, route.path, { token: user.token, rawBody: withKey(route.body, key) });
        expectFieldError(response, key);
      }
    });

    it.each(keys)('%s is refused on every query', async (key) => {
      for (const path of ['/content', '/generate-content', '/notifications']) {
        expectFieldError(await call('GET', `${path}?${encodeURIComponent(key)}=1`, { token: user.token }), key);
      }
    });

    it('leaves the item unchanged after a PUT with constructor', async () => {
      const before = await call('GET', `/content/${itemId}`, { token: user.token });
      const response = await call('PUT', `/content/${itemId}`, { token: user.token, rawBody: withKey({ title: 'Changed' }, 'constructor') });
      expectFieldError(response, 'constructor');
      expect((await call('GET', `/content/${itemId}`, { token: user.token })).body).toEqual(before.body);
    });

    it('still accepts a body without them (the routes above are valid)', async () => {
      const statuses = [];
      for (const route of jsonRoutes()) statuses.push((await call(route.method, route.path, { token: user.token, body: route.body })).status);
      // The save is of a job that does not exist: 404 means the body got through.
      expect(statuses).toEqual([201, 200, 201, 200, 202, 404]);
    });
  });

  describe('content types other than JSON', () => {
    it.each([
      ['application/x-www-form-urlencoded', 'email=a%40example.com&password=password-1'],
      ['text/plain', '{"email":"a@example.com","password":"password-1"}'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--x--\r\n'],
      ['application/xml', '<email>a@example.com</email>'],
    ])('%s is 415 on every JSON route', async (contentType, payload) => {
      for (const route of jsonRoutes()) {
        const response = await fetch(`${api.url}${route.path}`, {
          method: route.method,
          headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType },
          body: payload,
        });
        expect({ route: route.path, status: response.status }).toEqual({ route: route.path, status: 415 });
        expect(typeof ((await response.json()) as { message?: unknown }).message).toBe('string');
      }
    });

    it("leaves Socket.IO's long-polling (text/plain bodies, outside Fastify) alone", async () => {
      const handshake = await fetch(`${api.url}/socket.io/?EIO=4&transport=polling`);
      expect(handshake.status).toBe(200);
      const { sid } = JSON.parse((await handshake.text()).slice(1)) as { sid: string };
      const connect = await fetch(`${api.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: `40${JSON.stringify({ token: user.token })}`,
      });
      expect(connect.status).toBe(200);
      expect(await connect.text()).toBe('ok');
    });

        it('accepts JSON with a charset', async () => {
      const response = await call('POST', '/auth/login', {
        headers: { 'content-type': 'application/json; charset=utf-8' },
        rawBody: JSON.stringify({ email: user.email, password: user.password }),
      });
      expect(response.status).toBe(200);
    });

    it('keeps bodiless requests working: save with no body or {}, DELETE without a body', async () => {
      const unknownJob = `/generate-content/${randomUUID()}/save`;
      const noBody = await fetch(`${api.url}${unknownJob}`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` } });
      expect(noBody.status).toBe(404);
      expect((await call('POST', unknownJob, { token: user.token, body: {} })).status).toBe(404);
      const created = await call('POST', '/content', { token: user.token, body: item });
      expect((await call('DELETE', `/content/${created.body._id}`, { token: user.token })).status).toBe(200);
    });
  });

  describe('security headers', () => {
    it('sends nosniff, DENY, no-referrer, a locked-down CSP and no-store, and no HSTS outside production', async () => {
      const responses = [await call('GET', '/health'), await call('GET', '/auth/me', { token: user.token }), await call('POST', '/auth/login', { body: { email: user.email, password: user.password } })];
      for (const { headers } of responses) {
        expect(headers.get('x-content-type-options')).toBe('nosniff');
        expect(headers.get('x-frame-options')).toBe('DENY');
        expect(headers.get('referrer-policy')).toBe('no-referrer');
        expect(headers.get('content-security-policy')).toBe("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
        expect(headers.get('cache-control')).toBe('no-store');
        expect(headers.get('strict-transport-security')).toBeNull();
      }
    });

    it('serves Swagger UI under a CSP that allows exactly what its page loads', async () => {
      const page = await fetch(`${api.url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).not.toContain("'unsafe-eval'");
      const html = await page.text();
      // script-src 'self' allows no inline script: every script must be a file of ours.
      const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const attributes of scripts) {
        const src = /src=["']([^"']+)["']/.exec(attributes)?.[1];
        expect(src).toBeDefined();
        expect(src).not.toMatch(/^(https?:)?\/\//);
        const script = await fetch(new URL(src!, `${api.url}/docs`));
        expect({ src, status: script.status, bytes: (await script.arrayBuffer()).byteLength > 0 }).toEqual({ src, status: 200, bytes: true });
      }
      const stylesheet = await fetch(`${api.url}/docs/swagger-ui.css`);
      expect(stylesheet.status).toBe(200);
      expect(await stylesheet.text()).toContain('.swagger-ui');
      const document = await call('GET', '/docs-json');
      expect(document.status).toBe(200);
      expect(document.body.openapi).toMatch(/^3\./);
    });
  });
});

describe('Production settings', () => {
  const production = (extra: Record<string, string> = {}) =>
    testEnv('hostile-prod', { NODE_ENV: 'production', JWT_SECRET: randomBytes(48).toString('base64'), ...extra });

  it('sends HSTS and hides Swagger unless SWAGGER_ENABLED=true', async () => {
    const api = await startApi(production());
    try {
      const health = await http(api.url, 'GET', '/health');
      expect(health.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect((await http(api.url, 'GET', '/docs')).status).toBe(404);
      expect((await http(api.url, 'GET', '/docs-json')).status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('serves Swagger in production when SWAGGER_ENABLED=true', async () => {
    const api = await startApi(production({ SWAGGER_ENABLED: 'true' }));
    try {
      expect((await http(api.url, 'GET', '/docs')).status).toBe(200);
      expect((await http(api.url, 'GET', '/docs-json')).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('reads SWAGGER_ENABLED as true or false only, defaulting to on outside production', () => {
    const load = (env: Record<string, string>) => {
      const restore = applyEnv({ NODE_ENV: 'development', SWAGGER_ENABLED: '', ...env });
      try {
        return appConfig().swaggerEnabled;
      } finally {
        restore();
      }
    };
    expect(load({})).toBe(true);
    expect(load({ NODE_ENV: 'production' })).toBe(false);
    expect(load({ SWAGGER_ENABLED: 'false' })).toBe(false);
    expect(load({ NODE_ENV: 'production', SWAGGER_ENABLED: 'true' })).toBe(true);
    expect(() => load({ SWAGGER_ENABLED: 'yes' })).toThrow(new ConfigValidationError('Invalid configuration: SWAGGER_ENABLED must be true or false (got "yes")'));
  });
});
