import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { AuthConfig, RedisConfig } from '@app/config';
import { waitFor } from '@app/testing';
import { UserCache } from './user-cache.service';
import { UserRecord } from './user.repository';

const since = new Date('2026-01-01T00:00:00Z');
const user = (id: string): UserRecord => ({ _id: id, name: 'Ada', email: 'ada@example.com', status: 'active', role: 'user', createdAt: since, updatedAt: since });
const until = (check: () => boolean, what: string) => waitFor(() => (check() ? true : undefined), what, 5000, 10);

/** Two caches on the real Redis of the test run, as on two API instances. */
describe(UserCache.name, () => {
  const redisConfig = { url: process.env.TEST_REDIS_URL!, prefix: `${process.env.TEST_REDIS_PREFIX}user-cache-${randomBytes(3).toString('hex')}` } as RedisConfig;
  const authConfig = { userCache: { ttlMs: 60_000, max: 100 } } as AuthConfig;
  let connections: RedisConnection[];
  let first: UserCache;
  let second: UserCache;
  const listening = (cache: UserCache) => (cache as unknown as { listening: boolean }).listening;

  beforeEach(async () => {
    connections = [createRedisClient({ url: redisConfig.url }, 'user-cache-spec-1'), createRedisClient({ url: redisConfig.url }, 'user-cache-spec-2')];
    await Promise.all(connections.map((connection) => new Promise((resolve) => connection.once('ready', resolve))));
    [first, second] = connections.map((connection) => new UserCache(connection, redisConfig, authConfig));
    first.onModuleInit();
    second.onModuleInit();
    await until(() => listening(first) && listening(second), 'both caches to listen');
  });
  afterEach(() => {
    [first, second].forEach((cache) => cache.onApplicationShutdown());
    connections.forEach((connection) => connection.disconnect());
  });

  it('forgets a user on every instance when one of them invalidates it', async () => {
    first.remember(user('u1'), first.version);
    second.remember(user('u1'), second.version);
    expect(second.get('u1')).toEqual(user('u1'));

    await first.invalidate('u1');

    expect(first.get('u1')).toBeUndefined();
    await until(() => second.get('u1') === undefined, 'the other instance to forget the user');
  });

  it('tells change listeners on every instance which user changed', async () => {
    const heard: (string | undefined)[] = [];
    second.onChange((change) => heard.push(change?.userId));

    await first.invalidate('u4');

    await until(() => heard.includes('u4'), 'the other instance to hear the change');
  });

  it('carries ended sessions and tokensValidAfter to every instance', async () => {
    const heard: unknown[] = [];
    second.onChange((change) => heard.push(change));
    second.remember(user('u5'), second.version);

    await first.invalidate('u5', { endedSessions: ['sid-a', 'sid-b'], tokensValidAfterMs: 1_700_000_000_000 });

    await until(() => heard.length > 0, 'the other instance to hear the change');
    expect(heard).toEqual([{ userId: 'u5', endedSessions: ['sid-a', 'sid-b'], tokensValidAfterMs: 1_700_000_000_000 }]);
    expect(second.get('u5')).toBeUndefined();
  });

  it('tells listen listeners of every subscription, before change listeners hear of a gap', async () => {
    const calls: string[] = [];
    first.onListen(() => calls.push(`listen ${first.subscriptions}`));
    first.onChange((change) => calls.push(`change ${change?.userId}`));
    const before = first.subscriptions;
    const cache = first as unknown as { deafen(): void; listen(): Promise<void> };

    cache.deafen();
    expect(first.isListening).toBe(false);
    await cache.listen();

    expect(first.isListening).toBe(true);
    expect(calls).toEqual([`listen ${before + 1}`, 'change undefined']);
  });

  it('tells change listeners that anyone may have changed when it hears the channel again after a gap', async () => {
    const heard: (string | undefined)[] = [];
    first.onChange((change) => heard.push(change?.userId));
    const cache = first as unknown as { deafen(): void; listen(): Promise<void> };

    cache.deafen();
    await cache.listen();

    expect(heard).toEqual([undefined]);
  });

  it('does not cache a read that overlapped an invalidation', async () => {
    const version = second.version;
    await first.invalidate('u2');
    await until(() => second.version !== version, 'the invalidation to arrive');
    second.remember(user('u2'), version);
    expect(second.get('u2')).toBeUndefined();
  });

  it('serves nothing from memory while its channel is down', async () => {
    first.remember(user('u3'), first.version);
    (first as unknown as { deafen(): void }).deafen();
    expect(first.get('u3')).toBeUndefined();
    first.remember(user('u3'), first.version);
    expect(first.get('u3')).toBeUndefined();
  });
});
