import { randomBytes } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { createRedisClient, RedisConnection } from '@app/common';
import { AuthConfig, RedisConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { hashRefreshToken, parseRefreshToken } from './refresh-token';
import { SessionRevocations } from './session-revocations.service';
import { SessionStoreRepository, USED_REFRESH_TOKENS_KEPT } from './session-store.repository';
import { SessionRepository } from './session.repository';
import { SessionsService } from './sessions.service';

const USER_ID = '64b7f0c2a1b2c3d4e5f60718';
const SECRET = 'a-test-secret-for-the-sessions-spec-0123456789';
const CLIENT = { userAgent: 'jest', ip: '127.0.0.1' };

/** The rotation Lua script on the real Redis of the test run; the database record and the revocation list are mocks. */
describe(SessionsService.name, () => {
  const redisConfig = { url: process.env.TEST_REDIS_URL!, prefix: `${process.env.TEST_REDIS_PREFIX}sessions-${randomBytes(3).toString('hex')}` } as RedisConfig;
  let connection: RedisConnection;
  let store: SessionStoreRepository;
  let records: jest.Mocked<SessionRepository>;
  let revocations: jest.Mocked<SessionRevocations>;
  let jwt: JwtService;
  let sut: SessionsService;
  let graceMs: number;

  const config = () => ({ jwtSecret: SECRET, accessTtlSeconds: 900, refreshTtlSeconds: 3600, refreshGraceMs: graceMs }) as AuthConfig;
  const build = () => new SessionsService(jwt, store, records, revocations, config());
  const invalid = { name: 'DomainError', code: 'UNAUTHENTICATED' };

  beforeAll(async () => {
    connection = createRedisClient({ url: redisConfig.url }, 'sessions-spec');
    await new Promise((resolve) => connection.once('ready', resolve));
    store = new SessionStoreRepository(connection, redisConfig);
    jwt = new JwtService({ secret: SECRET, signOptions: { algorithm: 'HS256', expiresIn: 900 } });
  });
  afterAll(() => connection.disconnect());

  beforeEach(() => {
    graceMs = 20_000;
    records = strictMock(SessionRepository);
    records.create.mockResolvedValue();
    records.touch.mockResolvedValue();
    records.markEnded.mockResolvedValue();
    revocations = strictMock(SessionRevocations);
    revocations.revoke.mockResolvedValue();
    sut = build();
  });

  it('starts a session: a typed access token with sid and audience, and an opaque refresh token stored only as a hash', async () => {
    const started = await sut.start(USER_ID, CLIENT);

    const { header, payload } = jwt.decode(started.token, { complete: true }) as { header: Record<string, unknown>; payload: Record<string, unknown> };
    expect(header).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: USER_ID, sid: started.sessionId, aud: 'aicg-api' });
    expect(started.expiresIn).toBe(900);
    expect(parseRefreshToken(started.refreshToken)).toEqual({ userId: USER_ID, sessionId: started.sessionId });
    expect(started.refreshToken.split('.')).toHaveLength(4);
    expect(records.create).toHaveBeenCalledWith(expect.objectContaining({ id: started.sessionId, userId: USER_ID, userAgent: 'jest', ip: '127.0.0.1' }));
    const stored = await connection.hgetall(`${redisConfig.prefix.replace(/[{}]/g, '')}:{u:${USER_ID}}:session:${started.sessionId}`);
    expect(stored.cur).toBe(hashRefreshToken(started.refreshToken));
    expect(JSON.stringify(stored)).not.toContain(started.refreshToken);
    expect(await store.liveSessionIds(USER_ID)).toContain(started.sessionId);
  });

  it('rotates: a new pair, and the old refresh token gets the same pair again within the grace window', async () => {
    const started = await sut.start(USER_ID, CLIENT);

    const first = await sut.refresh(started.refreshToken);
    expect(first.refreshToken).not.toBe(started.refreshToken);
    expect(parseRefreshToken(first.refreshToken)?.sessionId).toBe(started.sessionId);
    expect(await sut.refresh(started.refreshToken)).toEqual(first);

    const second = await sut.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(revocations.revoke).not.toHaveBeenCalled();
  });

  it('ends the whole session when a rotated refresh token comes back after the grace window (reuse)', async () => {
    graceMs = 0;
    sut = build();
    const started = await sut.start(USER_ID, CLIENT);
    const next = await sut.refresh(started.refreshToken);
    await new Promise((resolve) => setTimeout(resolve, 5));

    await expect(sut.refresh(started.refreshToken)).rejects.toMatchObject({ ...invalid, message: 'Refresh token already used; the session has ended' });

    expect(revocations.revoke).toHaveBeenCalledWith(USER_ID, [started.sessionId], undefined);
    await expect(sut.refresh(next.refreshToken)).rejects.toMatchObject(invalid);
    expect(await store.liveSessionIds(USER_ID)).not.toContain(started.sessionId);
  });

  it('recognises a reuse of an older token too (up to the last kept), and refuses a forged one without ending the session', async () => {
    graceMs = 0;
    sut = build();
    const started = await sut.start(USER_ID, CLIENT);
    const second = await sut.refresh(started.refreshToken);
    const third = await sut.refresh(second.refreshToken);
    const forged = `${third.refreshToken.slice(0, -43)}${'x'.repeat(43)}`;

    await expect(sut.refresh(forged)).rejects.toMatchObject({ ...invalid, message: 'Invalid or expired refresh token' });
    expect(revocations.revoke).not.toHaveBeenCalled();

    await expect(sut.refresh(started.refreshToken)).rejects.toMatchObject({ message: 'Refresh token already used; the session has ended' });
    await expect(sut.refresh(third.refreshToken)).rejects.toMatchObject(invalid);
    expect(USED_REFRESH_TOKENS_KEPT).toBeGreaterThanOrEqual(2);
  });

  it('gives 20 concurrent refreshes with one token the same new pair (or 401), never two different valid pairs', async () => {
    const started = await sut.start(USER_ID, CLIENT);
    const sut2 = build(); // another API instance: same secret, same Redis

    const results = await Promise.allSettled(Array.from({ length: 20 }, (_unused, i) => (i % 2 ? sut : sut2).refresh(started.refreshToken)));

    const pairs = new Set(results.filter((r) => r.status === 'fulfilled').map((r) => JSON.stringify((r as PromiseFulfilledResult<unknown>).value)));
    expect(pairs.size).toBe(1);
    for (const rejected of results.filter((r) => r.status === 'rejected')) expect((rejected as PromiseRejectedResult).reason).toMatchObject(invalid);
    // The one pair is the live one: it rotates once more.
    const [pair] = [...pairs].map((text) => JSON.parse(text) as { refreshToken: string });
    expect((await sut.refresh(pair.refreshToken)).refreshToken).toEqual(expect.any(String));
  });

  it('refuses what is not a refresh token (an access token), touching nothing', async () => {
    const started = await sut.start(USER_ID, CLIENT);

    await expect(sut.refresh(started.token)).rejects.toMatchObject(invalid);
    await expect(sut.refresh('')).rejects.toMatchObject(invalid);
    expect((await sut.refresh(started.refreshToken)).token).toEqual(expect.any(String));
  });

  it('logout ends the session (refresh dead) and revokes it; ending another user\'s session is NOT_FOUND', async () => {
    const started = await sut.start(USER_ID, CLIENT);

    await expect(sut.end('64b7f0c2a1b2c3d4e5f60799', started.sessionId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await sut.logout(USER_ID, started.sessionId);

    expect(revocations.revoke).toHaveBeenCalledWith(USER_ID, [started.sessionId], undefined);
    expect(records.markEnded).toHaveBeenCalledWith([started.sessionId], expect.any(Date));
    await expect(sut.refresh(started.refreshToken)).rejects.toMatchObject(invalid);
    await expect(sut.end(USER_ID, started.sessionId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('endAll ends every session but the one kept, and sets tokensValidAfter', async () => {
    const userId = '64b7f0c2a1b2c3d4e5f607aa';
    const [a, b, c] = await Promise.all([sut.start(userId, CLIENT), sut.start(userId, CLIENT), sut.start(userId, CLIENT)]);

    await sut.endAll(userId, { keep: b.sessionId, voidEarlierTokens: true });

    expect(revocations.revoke).toHaveBeenCalledWith(userId, expect.arrayContaining([a.sessionId, c.sessionId]), { atMs: expect.any(Number), keptSessionId: b.sessionId });
    expect(revocations.revoke.mock.calls[0][1]).toHaveLength(2);
    expect(await store.liveSessionIds(userId)).toEqual([b.sessionId]);
    await expect(sut.refresh(a.refreshToken)).rejects.toMatchObject(invalid);
    expect((await sut.refresh(b.refreshToken)).token).toEqual(expect.any(String));
  });
});
