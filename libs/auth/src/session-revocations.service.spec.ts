import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { AuthConfig, RedisConfig } from '@app/config';
import { waitFor } from '@app/testing';
import { SessionRevocations } from './session-revocations.service';
import { SessionStoreRepository } from './session-store.repository';
import { UserCache } from './user-cache.service';

const until = (check: () => boolean, what: string) => waitFor(() => (check() ? true : undefined), what, 5000, 10);

/** Two instances (cache + revocation list each) on the real Redis of the test run. */
describe(SessionRevocations.name, () => {
  const redisConfig = { url: process.env.TEST_REDIS_URL!, prefix: `${process.env.TEST_REDIS_PREFIX}revocations-${randomBytes(3).toString('hex')}` } as RedisConfig;
  const authConfig = { userCache: { ttlMs: 60_000, max: 100 }, accessTtlSeconds: 900, revocationPollMs: 200 } as AuthConfig;
  let connections: RedisConnection[];
  let caches: UserCache[];
  let first: SessionRevocations;
  let second: SessionRevocations;
  let stores: SessionStoreRepository[];

  beforeEach(async () => {
    connections = [1, 2].map((n) => createRedisClient({ url: redisConfig.url }, `revocations-spec-${n}`));
    await Promise.all(connections.map((connection) => new Promise((resolve) => connection.once('ready', resolve))));
    caches = connections.map((connection) => new UserCache(connection, redisConfig, authConfig));
    stores = connections.map((connection) => new SessionStoreRepository(connection, redisConfig));
    [first, second] = caches.map((cache, i) => new SessionRevocations(stores[i], cache, authConfig));
    caches.forEach((cache) => cache.onModuleInit());
    await until(() => first.trusted && second.trusted, 'both lists to load');
  });
  afterEach(() => {
    caches.forEach((cache) => cache.onApplicationShutdown());
    [first, second].forEach((list) => list.onApplicationShutdown());
    connections.forEach((connection) => connection.disconnect());
  });

  it('answers from memory (synchronously) and hears a revocation made on another instance', async () => {
    expect(second.isRevoked({ userId: 'u1', sessionId: 'sid-1' })).toBe(false);

    await first.revoke('u1', ['sid-1']);

    expect(first.isRevoked({ userId: 'u1', sessionId: 'sid-1' })).toBe(true);
    await until(() => second.isRevoked({ userId: 'u1', sessionId: 'sid-1' }) === true, 'the other instance to hear it');
    expect(second.isRevoked({ userId: 'u1', sessionId: 'sid-2' })).toBe(false);
  });

  it('voids every token issued at or before tokensValidAfter by its iat (a session\'s to the second), but the kept session\'s', async () => {
    const at = Date.now();
    await first.revoke('u2', [], { atMs: at, keptSessionId: 'sid-kept' });

    await until(() => second.isRevoked({ userId: 'u2', issuedAtMs: at }) === true, 'the other instance to hear it');
    expect(second.isRevoked({ userId: 'u2', issuedAtMs: at + 1 })).toBe(false);
    expect(second.isRevoked({ userId: 'u2' })).toBe(true);
    expect(second.isRevoked({ userId: 'u2', sessionId: 'sid-9', issuedAtMs: at - 1000 })).toBe(true);
    // A session's token issued in the second of the revocation (iat has whole seconds) may be a login right after it.
    expect(second.isRevoked({ userId: 'u2', sessionId: 'sid-9', issuedAtMs: Math.floor(at / 1000) * 1000 })).toBe(false);
    expect(second.isRevoked({ userId: 'u2', sessionId: 'sid-kept', issuedAtMs: at - 1000 })).toBe(false);
    // A later tokensValidAfter without a kept session voids the kept one too.
    await first.revoke('u2', [], { atMs: at + 5000 });
    await until(() => second.isRevoked({ userId: 'u2', sessionId: 'sid-kept', issuedAtMs: at - 1000 }) === true, 'the later revocation');
  });

  it('asks Redis for a kept session as well when memory is not trusted', async () => {
    const at = Date.now();
    await stores[0].revoke({ userId: 'u4', sessionIds: [], validAfterMs: at, keptSessionId: 'sid-kept', keepMs: 60_000 });
    (caches[1] as unknown as { deafen(): void }).deafen();

    expect(await second.isRevoked({ userId: 'u4', sessionId: 'sid-kept', issuedAtMs: at - 1000 })).toBe(false);
    expect(await second.isRevoked({ userId: 'u4', sessionId: 'sid-other', issuedAtMs: at - 1000 })).toBe(true);
  });

  it('reads a revocation it never heard of from Redis within a poll, while the channel still looks heard', async () => {
    // Written to Redis and never announced (a lost message, a publish that failed after the write).
    await stores[0].revoke({ userId: 'u5', sessionIds: ['sid-unannounced'], keepMs: 60_000 });
    expect(second.trusted).toBe(true);

    const started = Date.now();
    await until(() => second.isRevoked({ userId: 'u5', sessionId: 'sid-unannounced' }) === true, 'the poll');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(second.trusted).toBe(true);
  });

  it('while its channel is down, asks Redis per check; after resubscribing it reloads what it missed', async () => {
    const cache = caches[1] as unknown as { deafen(): void; listen(): Promise<void> };
    cache.deafen();
    expect(second.trusted).toBe(false);
    // Written to Redis without this instance hearing it (as if the message was lost).
    await stores[0].revoke({ userId: 'u3', sessionIds: ['sid-missed'], keepMs: 60_000 });

    const answer = second.isRevoked({ userId: 'u3', sessionId: 'sid-missed' });
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toBe(true);

    await stores[0].revoke({ userId: 'u3', sessionIds: ['sid-missed-2'], keepMs: 60_000 });
    await cache.listen();
    await until(() => second.trusted, 'the reload');
    expect(second.isRevoked({ userId: 'u3', sessionId: 'sid-missed-2' })).toBe(true);
  });
});

describe(`${SessionRevocations.name} when Redis cannot be read`, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('stops trusting memory 3 s after the last successful read, asks Redis per check meanwhile, and trusts it again after a read', async () => {
    const load = jest.fn().mockResolvedValue({ sessions: new Map(), validAfter: new Map(), kept: new Map(), readAtMs: Date.now() });
    const check = jest.fn().mockResolvedValue({ sessionEnded: true });
    const store = { load, check } as unknown as SessionStoreRepository;
    const listeners: (() => void)[] = [];
    const cache = { isListening: true, subscriptions: 1, onChange: jest.fn(), onListen: (listener: () => void) => listeners.push(listener) } as unknown as UserCache;
    const sut = new SessionRevocations(store, cache, { accessTtlSeconds: 900, revocationPollMs: 500 } as AuthConfig);
    listeners.forEach((listener) => listener());
    await jest.advanceTimersByTimeAsync(0);
    expect(sut.trusted).toBe(true);
    expect(sut.isRevoked({ userId: 'u', sessionId: 's' })).toBe(false);

    load.mockRejectedValue(new Error('connection lost'));
    await jest.advanceTimersByTimeAsync(2900);
    expect(sut.trusted).toBe(true);
    await jest.advanceTimersByTimeAsync(200);
    expect(sut.trusted).toBe(false);
    await expect(sut.isRevoked({ userId: 'u', sessionId: 's' })).resolves.toBe(true);
    expect(check).toHaveBeenCalledWith('u', 's');
    // Still polling, from where the last successful read left off.
    const readsWhileFailing = load.mock.calls.length;
    await jest.advanceTimersByTimeAsync(1000);
    expect(load.mock.calls.length).toBeGreaterThan(readsWhileFailing);

    load.mockResolvedValue({ sessions: new Map(), validAfter: new Map(), kept: new Map(), readAtMs: Date.now() });
    await jest.advanceTimersByTimeAsync(500);
    expect(sut.trusted).toBe(true);
    expect(load.mock.calls.at(-1)![0]).toMatchObject({ sinceMs: expect.any(Number) });
    sut.onApplicationShutdown();
  });
});
