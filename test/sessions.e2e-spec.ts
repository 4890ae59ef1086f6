import Redis from 'ioredis';
import { AuthService } from '@app/auth';
import { RealtimeGateway } from '../apps/api/src/realtime/realtime.gateway';
import { UserCache } from '../libs/auth/src/user-cache.service';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { signHs256 } from './support/jwt';
import { RedisCluster, startRedisCluster } from './support/redis-cluster';
import { connectError, connectSocket, disconnectAll, waitForDisconnect } from './support/socket';
import { Env, testEnv } from './support/test-env';
import { waitFor } from './support/worker';

const SECRET = testEnv('x').JWT_SECRET;
/** Short, so reuse after the grace window is quick to reach; long enough for an immediate retry on a loaded machine. */
const GRACE_MS = 1500;

interface Tokens {
  token: string;
  refreshToken: string;
  expiresIn: number;
}

describe('Sessions, refresh rotation, logout, account changes (two API instances)', () => {
  let a: RunningApi;
  let b: RunningApi;
  let env: Env;
  const now = () => Math.floor(Date.now() / 1000);
  const status = async (api: RunningApi, token: string) => (await http(api.url, 'GET', '/auth/me', { token })).status;
  const login = async (api: RunningApi, email: string, password: string, userAgent = 'sessions-e2e'): Promise<Tokens> => {
    const response = await http(api.url, 'POST', '/auth/login', { body: { email, password }, headers: { 'user-agent': userAgent } });
    expect(response.status).toBe(200);
    return response.body;
  };
  const refresh = (api: RunningApi, refreshToken: string) => http(api.url, 'POST', '/auth/refresh', { body: { refreshToken } });
  /** Polls until the token gets 401 on `api`; returns the ms it took from `since`. */
  const refusedAfter = async (api: RunningApi, token: string, since: number): Promise<number> => {
    await waitFor(async () => ((await status(api, token)) === 401 ? true : undefined), 'the token to be refused', 5000, 10);
    return Date.now() - since;
  };

  beforeAll(async () => {
    env = testEnv('sessions', { AUTH_REFRESH_GRACE_MS: String(GRACE_MS) });
    [a, b] = await Promise.all([startApi(env), startApi(env)]);
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('register and login also return refreshToken and expiresIn (the access token lifetime, s)', async () => {
    const email = `fields${Date.now()}@example.com`;
    const registered = await http(a.url, 'POST', '/auth/register', { body: { name: 'Ada', email, password: 'correct horse' } });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ _id: expect.any(String), name: 'Ada', email, token: expect.any(String), refreshToken: expect.any(String), expiresIn: 7 * 86_400 });
    const [header, payload] = registered.body.token.split('.').slice(0, 2).map((part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: registered.body._id, aud: 'aicg-api', sid: expect.any(String) });
    expect(registered.body.refreshToken.split('.')).toHaveLength(4);
    expect(await login(b, email, 'correct horse')).toEqual({ ...registered.body, token: expect.any(String), refreshToken: expect.any(String) });
  });

  it('logout on A: the token gets 401 on B within 1 s, its socket on B is disconnected, its refresh token is dead; other sessions stay', async () => {
    const user = await registerUser(a.url);
    const ended = await login(a, user.email, user.password);
    const other = await login(b, user.email, user.password);
    // Both instances have the user cached and answer from memory.
    expect([await status(a, ended.token), await status(b, ended.token), await status(b, other.token)]).toEqual([200, 200, 200]);
    const endedSocket = await connectSocket(b.url, ended.token);
    const otherSocket = await connectSocket(b.url, other.token);
    const disconnected = waitForDisconnect(endedSocket, 5000);

    const logout = await http(a.url, 'POST', '/auth/logout', { token: ended.token });
    expect(logout.status).toBe(204);
    // Counted from the logout's answer: the "within 1 s" of the session ending.
    const onB = await refusedAfter(b, ended.token, Date.now());
    console.log(`logout on A -> token refused on B after ${onB} ms`);
    expect(onB).toBeLessThan(1000);
    expect(await status(a, ended.token)).toBe(401);

    expect(await disconnected).toBe('io server disconnect');
    expect(otherSocket.connected).toBe(true);
    expect(await status(b, other.token)).toBe(200);
    expect((await refresh(b, ended.refreshToken)).status).toBe(401);
    expect((await connectError(b.url, ended.token)).message).toBe('Authentication error');
    // Logging out again with the dead token is a plain 401.
    expect((await http(b.url, 'POST', '/auth/logout', { token: ended.token })).status).toBe(401);
  });

  it('refresh rotates the pair; a retry within the grace gets the same pair; a reuse after it ends the whole session on every instance', async () => {
    const user = await registerUser(a.url);
    const first = await login(a, user.email, user.password);

    const rotated = await refresh(b, first.refreshToken);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ token: expect.any(String), refreshToken: expect.any(String), expiresIn: 7 * 86_400 });
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    expect(await status(a, rotated.body.token)).toBe(200);

    // A concurrent retry (the client lost the answer): the same pair, from either instance.
    const retried = await refresh(a, first.refreshToken);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(rotated.body);

    const socket = await connectSocket(b.url, rotated.body.token);
    const disconnected = waitForDisconnect(socket, 5000);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 200));
    const reuse = await refresh(a, first.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.body.message).toMatch(/already used/);

    const started = Date.now();
    console.log(`reuse on A -> rotated token refused on B after ${await refusedAfter(b, rotated.body.token, started)} ms`);
    expect(await status(a, first.token)).toBe(401);
    expect((await refresh(b, rotated.body.refreshToken)).status).toBe(401);
    expect(await disconnected).toBe('io server disconnect');
  });

  it('20 concurrent refreshes with one token: one new pair for all (or 401), never two different valid pairs', async () => {
    const user = await registerUser(a.url);
    const first = await login(a, user.email, user.password);

    const answers = await Promise.all(Array.from({ length: 20 }, (_unused, i) => refresh(i % 2 ? a : b, first.refreshToken)));

    const pairs = new Set(answers.filter((answer) => answer.status === 200).map((answer) => JSON.stringify(answer.body)));
    expect(pairs.size).toBe(1);
    expect(answers.every((answer) => answer.status === 200 || answer.status === 401)).toBe(true);
  });

  it('keeps the kinds apart: an access token is refused at /auth/refresh, a refresh token as Bearer and on a socket', async () => {
    const user = await registerUser(a.url);
    const tokens = await login(a, user.email, user.password);

    expect((await refresh(a, tokens.token)).status).toBe(401);
    expect((await refresh(a, 'x'.repeat(2001))).status).toBe(400);
    expect((await http(a.url, 'POST', '/auth/refresh', { body: {} })).status).toBe(400);
    expect(await status(a, tokens.refreshToken)).toBe(401);
    expect((await connectError(a.url, tokens.refreshToken)).message).toBe('Authentication error');
    // Well-formed access-token claims with the header typ of a plain JWT are refused too (explicit typing).
    const [, payload] = tokens.token.split('.');
    const untyped = signHs256(JSON.parse(Buffer.from(payload, 'base64url').toString()), SECRET);
    expect(await status(a, untyped)).toBe(401);
    expect(await status(a, tokens.token)).toBe(200);
  });

  it('logout-all ends every session, and also tokens issued before sessions (old style), which work until then', async () => {
    const user = await registerUser(a.url);
    const second = await login(b, user.email, user.password);
    const oldStyle = signHs256({ sub: user.id, iat: now() - 5, exp: now() + 600 }, SECRET);
    expect([await status(a, oldStyle), await status(b, oldStyle)]).toEqual([200, 200]);
    const oldSocket = await connectSocket(b.url, oldStyle);
    const disconnected = waitForDisconnect(oldSocket, 5000);

    expect((await http(a.url, 'POST', '/auth/logout-all', { token: user.token })).status).toBe(204);

    const started = Date.now();
    for (const token of [user.token, second.token, oldStyle]) await refusedAfter(b, token, started);
    expect([await status(a, user.token), await status(a, second.token), await status(a, oldStyle)]).toEqual([401, 401, 401]);
    expect((await refresh(a, second.refreshToken)).status).toBe(401);
    expect(await disconnected).toBe('io server disconnect');
    // A new login works as before.
    expect(await status(b, (await login(b, user.email, user.password)).token)).toBe(200);
  });

  it("lists the caller's sessions (current marked) and ends one; another user's session is 404", async () => {
    const user = await registerUser(a.url);
    const phone = await login(b, user.email, user.password, 'Phone/1.0');
    const stranger = await registerUser(a.url);

    const list = await http(a.url, 'GET', '/auth/sessions', { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    const sid = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
    const mine = list.body.find((session: { id: string }) => session.id === sid(user.token));
    const theirs = list.body.find((session: { id: string }) => session.id === sid(phone.token));
    expect(mine).toMatchObject({ current: true, createdAt: expect.any(String), lastUsedAt: expect.any(String) });
    expect(theirs).toMatchObject({ current: false, userAgent: 'Phone/1.0' });
    expect(JSON.stringify(list.body)).not.toMatch(/refresh|hash|rt\./i);

    expect((await http(a.url, 'DELETE', `/auth/sessions/${theirs.id}`, { token: stranger.token })).status).toBe(404);
    expect((await http(a.url, 'DELETE', '/auth/sessions/not-a-session', { token: user.token })).status).toBe(404);
    expect(await status(b, phone.token)).toBe(200);

    expect((await http(a.url, 'DELETE', `/auth/sessions/${theirs.id}`, { token: user.token })).status).toBe(204);
    await refusedAfter(b, phone.token, Date.now());
    expect((await refresh(b, phone.refreshToken)).status).toBe(401);
    expect((await http(b.url, 'GET', '/auth/sessions', { token: user.token })).body.map((session: { id: string }) => session.id)).toEqual([mine.id]);
    expect((await http(a.url, 'DELETE', `/auth/sessions/${theirs.id}`, { token: user.token })).status).toBe(404);
  });

  it('changes the password: the current one is required, the other sessions end, the caller stays, the old password fails', async () => {
    const user = await registerUser(a.url);
    const other = await login(b, user.email, user.password);
    const change = (body: object) => http(a.url, 'POST', '/auth/password', { token: user.token, body });

    const wrong = await change({ currentPassword: 'not-the-password', newPassword: 'a brand new phrase' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toBe('currentPassword is incorrect');
    const common = await change({ currentPassword: user.password, newPassword: 'password123' });
    expect(common.status).toBe(400);
    expect(common.body.message).toContain('newPassword');
    expect(common.body.details.map((detail: { field: string }) => detail.field)).toEqual(['newPassword']);
    const short = await change({ currentPassword: user.password, newPassword: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.message).toContain('newPassword');
    expect(await status(b, other.token)).toBe(200);

    expect((await change({ currentPassword: user.password, newPassword: 'a brand new phrase' })).status).toBe(204);

    await refusedAfter(b, other.token, Date.now());
    expect((await refresh(a, other.refreshToken)).status).toBe(401);
    expect([await status(a, user.token), await status(b, user.token)]).toEqual([200, 200]);
    expect((await http(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
    expect(await status(b, (await login(b, user.email, 'a brand new phrase')).token)).toBe(200);
  });

  it('changes the name, seen on every instance at once', async () => {
    const user = await registerUser(a.url);
    expect((await http(b.url, 'GET', '/auth/me', { token: user.token })).body.name).toBe('User');

    const renamed = await http(a.url, 'PATCH', '/auth/me', { token: user.token, body: { name: '  Ada King ' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ _id: user.id, name: 'Ada King', email: user.email, status: 'active' });
    expect(JSON.stringify(renamed.body)).not.toMatch(/passwordHash/);
    await waitFor(async () => ((await http(b.url, 'GET', '/auth/me', { token: user.token })).body.name === 'Ada King' ? true : undefined), 'B to see the name', 5000, 10);

    for (const body of [{ name: '' }, { name: 'x'.repeat(101) }, { name: 'Ada', email: 'other@example.com' }, {}]) {
      expect((await http(a.url, 'PATCH', '/auth/me', { token: user.token, body })).status).toBe(400);
    }
  });

  it.each([
    ['a common password', (email: string) => ({ email, password: 'iloveyou1' }), /common/],
    ['the email as password', (email: string) => ({ email, password: email.toUpperCase() }), /email/],
    ['the local part of the email', (email: string) => ({ email, password: `${email.split('@')[0]}!` }), /email/],
  ])('refuses %s at register with 400 naming password', async (_name, body, reason) => {
    const email = `policy${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.com`;
    const response = await http(a.url, 'POST', '/auth/register', { body: { name: 'P', ...body(email) } });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('password');
    expect(response.body.message).toMatch(reason);
    expect(response.body.details.map((detail: { field: string }) => detail.field)).toEqual(['password']);
  });

  it('an instance whose subscriber was silently dropped still refuses a token revoked on another within about 1 s (it polls Redis)', async () => {
    const user = await registerUser(a.url);
    const ended = await login(a, user.email, user.password);
    expect(await status(b, ended.token)).toBe(200);
    const cache = b.app.get(UserCache, { strict: false });
    const subscriber = (cache as unknown as { subscriber: Redis }).subscriber;
    const channel = `${env.REDIS_PREFIX}:user-changed`;
    // Straight on the connection, not through the cache's deafen hook: B still believes it hears the channel.
    await subscriber.unsubscribe(channel);
    try {
      expect(cache.isListening).toBe(true);
      expect((await http(a.url, 'POST', '/auth/logout', { token: ended.token })).status).toBe(204);
      const onB = await refusedAfter(b, ended.token, Date.now());
      console.log(`logout on A, B deaf -> token refused on B after ${onB} ms`);
      expect(onB).toBeLessThan(1000);
      expect(await status(b, user.token)).toBe(200);
    } finally {
      await subscriber.subscribe(channel);
    }
  });

  it('a socket whose session ends while its handshake is being admitted is disconnected as it connects', async () => {
    const user = await registerUser(a.url);
    const tokens = await login(a, user.email, user.password);
    const gateway = b.app.get(RealtimeGateway, { strict: false }) as unknown as { admit(socket: unknown): Promise<void> };
    const admit = gateway.admit;
    // After the token was checked and before the socket counts as connected, the session ends and B hears it.
    gateway.admit = async function (this: unknown, socket: unknown) {
      await admit.call(this, socket);
      expect((await http(a.url, 'POST', '/auth/logout', { token: tokens.token })).status).toBe(204);
      await refusedAfter(b, tokens.token, Date.now());
    };
    try {
      const socket = await connectSocket(b.url, tokens.token);
      await waitFor(() => (socket.connected ? undefined : true), 'the socket to be cut', 5000, 10);
    } finally {
      gateway.admit = admit;
    }
  });

  it('a password change with a token from before sessions ends every session and leaves that token working', async () => {
    const user = await registerUser(a.url);
    const other = await login(b, user.email, user.password);
    const oldStyle = signHs256({ sub: user.id, iat: now() - 5, exp: now() + 600 }, SECRET);

    const changed = await http(a.url, 'POST', '/auth/password', { token: oldStyle, body: { currentPassword: user.password, newPassword: 'a brand new phrase' } });
    expect(changed.status).toBe(204);

    for (const token of [user.token, other.token]) await refusedAfter(b, token, Date.now());
    expect([await status(a, oldStyle), await status(b, oldStyle)]).toEqual([200, 200]);
  });

  it('refuses a token that lives longer than JWT_EXPIRES_IN (plus a minute), however it was signed', async () => {
    const user = await registerUser(a.url);
    expect(await status(a, signHs256({ sub: user.id, iat: now(), exp: now() + 7 * 86_400 + 60 }, SECRET))).toBe(200);
    expect(await status(a, signHs256({ sub: user.id, iat: now(), exp: now() + 7 * 86_400 + 120 }, SECRET))).toBe(401);
    expect(await status(a, signHs256({ sub: user.id, iat: now() }, SECRET))).toBe(401);
  });

  it('refresh of a made-up token is 401; of a deactivated user it is 401 and ends the session', async () => {
    const user = await registerUser(a.url);
    expect((await refresh(a, `rt.${user.id}.${'A'.repeat(22)}.${'r'.repeat(43)}`)).status).toBe(401);
    const tokens = await login(a, user.email, user.password);
    const auth = b.app.get(AuthService, { strict: false });
    await auth.setStatus(user.id, 'inactive');
    expect((await refresh(a, tokens.refreshToken)).status).toBe(401);
    await auth.setStatus(user.id, 'active');
    // The session ended with the refusal: the refresh token stays dead once the account is active again.
    expect((await refresh(a, tokens.refreshToken)).status).toBe(401);
    expect(await status(a, tokens.token)).toBe(401);
    expect(await status(a, user.token)).toBe(200);
  });

  it('does not apply the password policy at login (an existing account keeps its password)', async () => {
    const user = await registerUser(a.url);
    // Login of an unknown email with a common password is the same 401 as ever.
    const unknown = await http(a.url, 'POST', '/auth/login', { body: { email: `nobody${Date.now()}@example.com`, password: 'password123' } });
    expect(unknown.status).toBe(401);
    expect(unknown.body.message).toBe('Invalid credentials');
    expect((await http(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
  });
});

describe('Password change throttling', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testEnv('password-throttle', { AUTH_THROTTLE_ACCOUNT_LIMIT: '3', AUTH_THROTTLE_IP_LIMIT: '50' }));
  });
  afterAll(() => api?.close());

  it('limits wrong current passwords per account like login, with Retry-After, before checking the password', async () => {
    const user = await registerUser(api.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await http(api.url, 'POST', '/auth/password', { token: user.token, body: { currentPassword: 'wrong-password', newPassword: 'a brand new phrase' } })).status);
    }
    expect(statuses).toEqual([403, 403, 403, 429]);
    const blocked = await http(api.url, 'POST', '/auth/password', { token: user.token, body: { currentPassword: user.password, newPassword: 'a brand new phrase' } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('One brute-force budget per account, whichever route checks the password', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi(testEnv('credential-throttle', { AUTH_THROTTLE_ACCOUNT_LIMIT: '3', AUTH_THROTTLE_IP_LIMIT: '50' }));
  });
  afterAll(() => api?.close());

  it("counts wrong passwords at /auth/password and DELETE /auth/me toward login's limit for that account (before bcrypt)", async () => {
    const user = await registerUser(api.url);
    const bystander = await registerUser(api.url);
    const wrongChange = { currentPassword: 'wrong-password', newPassword: 'a brand new phrase' };
    expect((await http(api.url, 'POST', '/auth/password', { token: user.token, body: wrongChange })).status).toBe(403);
    expect((await http(api.url, 'DELETE', '/auth/me', { token: user.token, body: { password: 'wrong-password' } })).status).toBe(403);
    expect((await http(api.url, 'POST', '/auth/password', { token: user.token, body: wrongChange })).status).toBe(403);

    const login = await http(api.url, 'POST', '/auth/login', { body: { email: user.email.toUpperCase(), password: user.password } });
    expect(login.status).toBe(429);
    expect(Number(login.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await http(api.url, 'DELETE', '/auth/me', { token: user.token, body: { password: user.password } })).status).toBe(429);
    // Another account, same IP: its own budget.
    expect((await http(api.url, 'POST', '/auth/login', { body: { email: bystander.email, password: bystander.password } })).status).toBe(200);
  });

  it('limits /auth/refresh per IP', async () => {
    const limited = await startApi(testEnv('refresh-throttle', { AUTH_THROTTLE_IP_LIMIT: '3' }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await http(limited.url, 'POST', '/auth/refresh', { body: { refreshToken: `rt.${'6'.repeat(24)}.${'A'.repeat(22)}.${'r'.repeat(43)}` } })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});

/** Every session script on a real 3-master cluster: per-user keys under the user's tag, revocations under the prefix's. */
describe('Sessions on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let apis: RunningApi[];
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const env = testEnv('sessions-cluster', { REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}`, REDIS_CLUSTER_NODES: cluster.nodes, AUTH_REFRESH_GRACE_MS: '0' });
    apis = [await startApi(env), await startApi(env)];
  }, 60_000);
  afterAll(async () => {
    await Promise.all((apis ?? []).map((api) => api.close()));
    await cluster?.stop();
  });

  it('rotates, detects reuse, lists, logs out and logs out everywhere, seen on both instances', async () => {
    const [a, b] = apis;
    const users = await Promise.all(Array.from({ length: 6 }, (_unused, i) => registerUser(apis[i % 2].url)));
    for (const user of users) {
      const login = (await http(b.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).body;
      const rotated = await http(a.url, 'POST', '/auth/refresh', { body: { refreshToken: login.refreshToken } });
      expect(rotated.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await http(b.url, 'POST', '/auth/refresh', { body: { refreshToken: login.refreshToken } })).status).toBe(401);
      await waitFor(async () => ((await http(a.url, 'GET', '/auth/me', { token: rotated.body.token })).status === 401 ? true : undefined), 'the reused session to end', 5000, 10);

      const again = (await http(a.url, 'POST', '/auth/login', { body: { email: user.email, password: user.password } })).body;
      expect((await http(b.url, 'GET', '/auth/sessions', { token: user.token })).body).toHaveLength(2);
      expect((await http(b.url, 'POST', '/auth/logout', { token: again.token })).status).toBe(204);
      await waitFor(async () => ((await http(a.url, 'GET', '/auth/me', { token: again.token })).status === 401 ? true : undefined), 'the logout', 5000, 10);
      expect((await http(a.url, 'POST', '/auth/logout-all', { token: user.token })).status).toBe(204);
      await waitFor(async () => ((await http(b.url, 'GET', '/auth/me', { token: user.token })).status === 401 ? true : undefined), 'the logout-all', 5000, 10);
    }
  });
});
