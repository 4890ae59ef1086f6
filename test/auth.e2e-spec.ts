import { getModelToken } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { AuthService } from '@app/auth';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { signHs256, unsignedJwt } from './support/jwt';
import { Env, testEnv } from './support/test-env';
import { waitFor } from './support/worker';

const SECRET = testEnv('x').JWT_SECRET;

describe('Auth (HTTP through the real app)', () => {
  let api: RunningApi;
  let env: Env;
  const call = (method: string, path: string, options?: Parameters<typeof http>[3]) => http(api.url, method, path, options);

  beforeAll(async () => {
    env = testEnv('auth');
    api = await startApi(env);
  });
  afterAll(() => api.close());

  it('registers, logs in and returns the caller on /auth/me', async () => {
    const registered = await call('POST', '/auth/register', { body: { name: '  Ada Lovelace ', email: ' Ada@Example.COM', password: 'correct horse' } });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ _id: expect.any(String), name: 'Ada Lovelace', email: 'ada@example.com', token: expect.any(String), refreshToken: expect.any(String), expiresIn: 604800 });

    const login = await call('POST', '/auth/login', { body: { email: 'ADA@example.com', password: 'correct horse' } });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ _id: registered.body._id, name: 'Ada Lovelace', email: 'ada@example.com', token: expect.any(String), refreshToken: expect.any(String), expiresIn: 604800 });

    const me = await call('GET', '/auth/me', { token: login.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ _id: registered.body._id, name: 'Ada Lovelace', email: 'ada@example.com', status: 'active' });
    for (const response of [registered, login, me]) expect(JSON.stringify(response.body)).not.toMatch(/passwordHash|\$2[aby]\$/);
  });

  it('puts the user id in sub of an HS256 token with an expiry', async () => {
    const user = await registerUser(api.url);
    const [header, payload] = user.token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header.alg).toBe('HS256');
    expect(payload.sub).toBe(user.id);
    expect(payload.exp).toBeGreaterThan(payload.iat);
  });

  it('answers 409 to a duplicate email in another letter case', async () => {
    await call('POST', '/auth/register', { body: { name: 'A', email: 'dup@example.com', password: 'password-1' } });
    const again = await call('POST', '/auth/register', { body: { name: 'B', email: 'DUP@Example.com', password: 'password-2' } });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/exists/);
  });

  it.each([
    ['name', { email: 'v1@example.com', password: 'password-1' }],
    ['name', { name: '   ', email: 'v2@example.com', password: 'password-1' }],
    ['name', { name: 'x'.repeat(101), email: 'v3@example.com', password: 'password-1' }],
    ['email', { name: 'A', email: 'not-an-email', password: 'password-1' }],
    ['email', { name: 'A', email: { $ne: null }, password: 'password-1' }],
    ['password', { name: 'A', email: 'v4@example.com', password: 'short' }],
    ['password', { name: 'A', email: 'v5@example.com', password: 'é'.repeat(37) }],
    ['password', { name: 'A', email: 'v6@example.com', password: 12345678 }],
    ['isAdmin', { name: 'A', email: 'v7@example.com', password: 'password-1', isAdmin: true }],
  ])('refuses a bad %s with 400 naming the field', async (field, body) => {
    const response = await call('POST', '/auth/register', { body });
    expect(response.status).toBe(400);
    expect(typeof response.body.message).toBe('string');
    expect(response.body.message).toContain(field);
    expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
  });

  it('refuses operator objects at login without querying with them', async () => {
    const response = await call('POST', '/auth/login', { body: { email: { $ne: null }, password: { $ne: null } } });
    expect(response.status).toBe(400);
  });

  it('gives the same 401 for a wrong password and an unknown email', async () => {
    const user = await registerUser(api.url);
    const wrongPassword = await call('POST', '/auth/login', { body: { email: user.email, password: 'not-the-password' } });
    const unknownEmail = await call('POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'not-the-password' } });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownEmail.body);
    expect(wrongPassword.body.message).toBe('Invalid credentials');
  });

  it('refuses an inactive user: login 403 and existing tokens 401', async () => {
    const user = await registerUser(api.url);
    const users = api.app.get<Model<unknown>>(getModelToken('User'));
    await users.updateOne({ _id: user.id }, { $set: { status: 'inactive' } });
    expect((await call('GET', '/auth/me', { token: user.token })).status).toBe(401);
    const login = await call('POST', '/auth/login', { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(403);
    expect(login.body.token).toBeUndefined();
  });

  it('remembers active users, and a deactivation reaches every API instance at once', async () => {
    // A second instance on the same database and Redis.
    const second = await startApi(env);
    try {
      const user = await registerUser(api.url);
      const onBoth = () => Promise.all([api.url, second.url].map(async (url) => (await http(url, 'GET', '/auth/me', { token: user.token })).status));
      expect(await onBoth()).toEqual([200, 200]);

      await api.app.get(AuthService).setStatus(user.id, 'inactive');
      // Far inside the cache's 60 s lifetime, so the refusal comes from the invalidation, not from expiry; the
      // deadline leaves a loaded machine room (the invalidation itself takes milliseconds).
      await waitFor(async () => ((await onBoth()).every((status) => status === 401) ? true : undefined), 'both instances to refuse the token', 5000, 20);
      expect((await http(second.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'x', contentType: 'blog-post' } })).status).toBe(401);

      await api.app.get(AuthService).setStatus(user.id, 'active');
      expect(await onBoth()).toEqual([200, 200]);
    } finally {
      await second.close();
    }
  });

  it('refuses malformed JSON with 400 and bodies over 100 kB with 413', async () => {
    expect((await call('POST', '/auth/login', { rawBody: '{"email": ' })).status).toBe(400);
    const big = await call('POST', '/auth/login', { rawBody: JSON.stringify({ email: 'a'.repeat(101 * 1024) }) });
    expect(big.status).toBe(413);
    expect(typeof big.body.message).toBe('string');
  });

  describe('refuses bad tokens with 401', () => {
    let user: Awaited<ReturnType<typeof registerUser>>;
    beforeAll(async () => {
      user = await registerUser(api.url);
    });
    const now = () => Math.floor(Date.now() / 1000);

    it.each([
      ['missing', () => undefined],
      ['malformed', () => 'not-a-jwt'],
      ['tampered', () => user.token.slice(0, -3) + (user.token.endsWith('AAA') ? 'BBB' : 'AAA')],
      ['alg:none', () => unsignedJwt({ sub: user.id, iat: now(), exp: now() + 600 })],
      ['expired', () => signHs256({ sub: user.id, iat: now() - 600, exp: now() - 60 }, SECRET)],
      ['wrong secret', () => signHs256({ sub: user.id, iat: now(), exp: now() + 600 }, 'another-secret-entirely-0123456789abcdef')],
      ['HS512', () => signHs256({ sub: user.id, iat: now(), exp: now() + 600 }, SECRET, { alg: 'HS512', typ: 'JWT' })],
      ['unknown user', () => signHs256({ sub: '507f1f77bcf86cd799439011', iat: now(), exp: now() + 600 }, SECRET)],
    ])('%s', async (_name, token) => {
      const response = await call('GET', '/auth/me', { token: token() });
      expect(response.status).toBe(401);
      expect(typeof response.body.message).toBe('string');
    });

    it('accepts a valid token signed the same way (the helper itself is right)', async () => {
      const response = await call('GET', '/auth/me', { token: signHs256({ sub: user.id, iat: now(), exp: now() + 600 }, SECRET) });
      expect(response.status).toBe(200);
    });
  });

  it('serves Swagger UI at /docs and the OpenAPI document with the bearer scheme at /docs-json', async () => {
    expect((await call('GET', '/docs')).status).toBe(200);
    const document = await call('GET', '/docs-json');
    expect(document.status).toBe(200);
    expect(document.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/auth/register', '/auth/login', '/auth/me', '/health/ready']));
  });

  it('reports liveness and readiness', async () => {
    expect((await call('GET', '/health')).body).toEqual({ status: 'ok' });
    const ready = await call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ mongodb: 'up', redis: 'up' });
  });
});

describe('Auth throttling (limits kept in Redis)', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testEnv('throttle', { AUTH_THROTTLE_ACCOUNT_LIMIT: '3', AUTH_THROTTLE_IP_LIMIT: '6' }));
  });
  afterAll(() => api.close());

  it('answers 429 with Retry-After once an account is over its limit, before checking the password', async () => {
    const user = await registerUser(api.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: 'wrong-password' } })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const blocked = await http(api.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.message).toMatch(/too many/i);
  });

  it('limits an IP across accounts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await http(api.url, 'POST', '/auth/login', { body: { email: `ip${i}@example.com`, password: 'wrong-password' } })).status);
    expect(statuses).toContain(429);
  });
});
