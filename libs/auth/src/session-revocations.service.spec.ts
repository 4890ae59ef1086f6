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
  const authConfig = { userCache: { ttlMs: 60_000, max: 100 }, accessTtlSeconds: 900 } as AuthConfig;
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

  it('voids tokens without a session issued at or before tokensValidAfter, not later ones nor tokens with a session', async () => {
    await first.revoke('u2', [], 1_000_000);

    await until(() => second.isRevoked({ userId: 'u2', issuedAtMs: 1_000_000 }) === true, 'the other instance to hear it');
    expect(second.isRevoked({ userId: 'u2', issuedAtMs: 1_001_000 })).toBe(false);
    expect(second.isRevoked({ userId: 'u2' })).toBe(true);
    expect(second.isRevoked({ userId: 'u2', sessionId: 'sid-9', issuedAtMs: 0 })).toBe(false);
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
