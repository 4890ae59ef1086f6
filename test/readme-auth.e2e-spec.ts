import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as bcrypt from 'bcrypt';
import { http, registerUser, startApi } from './support/api';
import { Env, testEnv } from './support/test-env';

// The real bcrypt, every call counted: an observable that does not depend on timing.
jest.mock('bcrypt', () => {
  const real = jest.requireActual<typeof import('bcrypt')>('bcrypt');
  return { ...real, compare: jest.fn((data: string, encrypted: string) => real.compare(data, encrypted)) };
});
const compare = bcrypt.compare as unknown as jest.Mock<Promise<boolean>, [string, string]>;

/** README promises about authentication that no other spec checks. */
describe('README promises: authentication', () => {
  it('runs one bcrypt comparison, at the configured cost, for an unknown email as for a wrong password', async () => {
    const api = await startApi(testEnv('readme-bcrypt', { BCRYPT_ROUNDS: '5' }));
    try {
      const user = await registerUser(api.url);
      const login = async (email: string, password: string) => {
        compare.mockClear();
        const response = await http(api.url, 'POST', '/auth/login', { body: { email, password } });
        const calls = compare.mock.calls.map(([, hash]) => hash);
        const results = await Promise.all(compare.mock.results.map((result) => result.value));
        return { status: response.status, body: response.body, calls, results };
      };

      const unknown = await login('nobody-here@example.com', user.password);
      const wrong = await login(user.email, 'not-the-password');
      const right = await login(user.email, user.password);

      expect(unknown).toMatchObject({ status: 401, results: [false] });
      expect(wrong).toMatchObject({ status: 401, results: [false] });
      expect(right).toMatchObject({ status: 200, results: [true] });
      // The same answer, and the same work: a real hash of the same cost as the user's own.
      expect(unknown.body).toEqual(wrong.body);
      const [dummyHash] = unknown.calls;
      const [userHash] = wrong.calls;
      expect(dummyHash).toMatch(/^\$2[aby]\$05\$[./A-Za-z0-9]{53}$/);
      expect(userHash).toMatch(/^\$2[aby]\$05\$[./A-Za-z0-9]{53}$/);
      expect(bcrypt.getRounds(dummyHash)).toBe(bcrypt.getRounds(userHash));
      expect(dummyHash).not.toBe(userHash);
    } finally {
      await api.close();
    }
  });

  describe('TRUST_PROXY', () => {
    const throttled = (name: string, trustProxy: string): Env =>
      testEnv(name, { TRUST_PROXY: trustProxy, AUTH_THROTTLE_IP_LIMIT: '3', AUTH_THROTTLE_ACCOUNT_LIMIT: '100', AUTH_THROTTLE_TTL_MS: '600000' });
    let emails = 0;
    const loginFrom = async (url: string, forwardedFor: string) =>
      (await http(url, 'POST', '/auth/login', { body: { email: `proxy-${emails++}@example.com`, password: 'a-long-enough-password' }, headers: { 'x-forwarded-for': forwardedFor } })).status;

    it('false (the default): X-Forwarded-For is ignored, every request counts against the connection\'s IP', async () => {
      const api = await startApi(throttled('readme-proxy-off', 'false'));
      try {
        const statuses = [];
        for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) statuses.push(await loginFrom(api.url, ip));
        expect(statuses).toEqual([401, 401, 401, 429]);
      } finally {
        await api.close();
      }
    });

    it('true: the client IP comes from X-Forwarded-For, so each forwarded client has its own limit', async () => {
      const api = await startApi(throttled('readme-proxy-on', 'true'));
      try {
        const statuses = [];
        for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) statuses.push(await loginFrom(api.url, ip));
        expect(statuses).toEqual([401, 401, 401, 401]);
        // One forwarded client is still limited.
        const again = [];
        for (let i = 0; i < 3; i++) again.push(await loginFrom(api.url, '203.0.113.9'));
        expect(again).toEqual([401, 401, 401]);
        expect(await loginFrom(api.url, '203.0.113.9')).toBe(429);
        expect(await loginFrom(api.url, '203.0.113.10')).toBe(401);
      } finally {
        await api.close();
      }
    });
  });

  describe('the development JWT secret', () => {
    const freshDataDir = () => join(mkdtempSync(join(process.env.TEST_TMP_DIR!, 'readme-jwt-')), 'data');
    const signedWith = (token: string, secret: string) => {
      const [header, payload, signature] = token.split('.');
      return createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url') === signature;
    };

    it('outside production is created once in DATA_DIR/jwt-secret, signs tokens and survives a restart', async () => {
      const dataDir = freshDataDir();
      // JWT_SECRET empty counts as unset.
      const env = testEnv('readme-jwt', { NODE_ENV: 'development', JWT_SECRET: '', DATA_DIR: dataDir });
      const file = join(dataDir, 'jwt-secret');
      expect(existsSync(file)).toBe(false);

      const first = await startApi(env);
      let user: Awaited<ReturnType<typeof registerUser>>;
      try {
        user = await registerUser(first.url);
      } finally {
        await first.close();
      }
      const secret = readFileSync(file, 'utf8').trim();
      expect(Buffer.from(secret, 'base64').length).toBeGreaterThanOrEqual(32);
      expect(statSync(file).mode & 0o077).toBe(0);
      expect(signedWith(user.token, secret)).toBe(true);
      const written = statSync(file).mtimeMs;

      // A restart reads it again rather than making a new one: earlier tokens still work.
      const second = await startApi(env);
      try {
        expect((await http(second.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);
      } finally {
        await second.close();
      }
      expect(readFileSync(file, 'utf8').trim()).toBe(secret);
      expect(statSync(file).mtimeMs).toBe(written);

      // Another data folder gets a secret of its own, random: the first one's tokens are refused there.
      const otherDir = freshDataDir();
      const other = await startApi({ ...env, DATA_DIR: otherDir });
      try {
        expect((await http(other.url, 'GET', '/auth/me', { token: user.token })).status).toBe(401);
      } finally {
        await other.close();
      }
      expect(readFileSync(join(otherDir, 'jwt-secret'), 'utf8').trim()).not.toBe(secret);
    });

    it('is not created in production (JWT_SECRET is used instead)', async () => {
      const dataDir = freshDataDir();
      const secret = 'Zq8vN3kLw2Xr7Tb5Hm9Jc4Fd6Gs1Ap0YeUiOoPlKjHgQwErTy';
      const api = await startApi(testEnv('readme-jwt-prod', { NODE_ENV: 'production', JWT_SECRET: secret, DATA_DIR: dataDir }));
      try {
        const user = await registerUser(api.url);
        expect(signedWith(user.token, secret)).toBe(true);
      } finally {
        await api.close();
      }
      expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
    });
  });
});
