import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { SEAT_TTL_MS, SocketSeats } from './socket-seats';

const NOW = Date.parse('2026-11-24T12:00:00Z');

/** Against the real Redis of the test run: the cap must hold under real concurrency, across instances. */
describe(SocketSeats.name, () => {
  let redis: RedisConnection;
  let sut: SocketSeats;
  const userId = () => randomBytes(12).toString('hex');

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'seats-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new SocketSeats(redis, `${process.env.TEST_REDIS_PREFIX}seats`, 3);
  });
  afterAll(() => redis.disconnect());

  it('admits exactly `max` of 30 concurrent handshakes', async () => {
    const user = userId();
    const admitted = await Promise.all(Array.from({ length: 30 }, (_, i) => sut.take(user, `socket-${i}`, NOW)));
    expect(admitted.filter(Boolean)).toHaveLength(3);
    expect(await sut.held(user, NOW)).toBe(3);
  });

  it('frees a seat on release, and counts a socket taking its seat twice once', async () => {
    const user = userId();
    expect(await sut.take(user, 'a', NOW)).toBe(true);
    expect(await sut.take(user, 'a', NOW)).toBe(true);
    expect(await sut.take(user, 'b', NOW)).toBe(true);
    expect(await sut.take(user, 'c', NOW)).toBe(true);
    expect(await sut.take(user, 'd', NOW)).toBe(false);

    await sut.release(user, 'b');

    expect(await sut.take(user, 'd', NOW)).toBe(true);
  });

  it("frees the seats of an instance that stopped refreshing them (it died) after SEAT_TTL_MS, and keeps refreshed ones", async () => {
    const user = userId();
    for (const socket of ['alive-1', 'dead-1', 'dead-2']) await sut.take(user, socket, NOW);

    await sut.refresh(user, ['alive-1'], NOW + SEAT_TTL_MS - 1000);

    expect(await sut.take(user, 'new-1', NOW + SEAT_TTL_MS - 1)).toBe(false);
    expect(await sut.take(user, 'new-1', NOW + SEAT_TTL_MS)).toBe(true);
    expect(await sut.take(user, 'new-2', NOW + SEAT_TTL_MS)).toBe(true);
    expect(await sut.take(user, 'new-3', NOW + SEAT_TTL_MS)).toBe(false);
  });

  it('does not bring back a released seat when refreshing', async () => {
    const user = userId();
    await sut.take(user, 'a', NOW);
    await sut.release(user, 'a');

    await sut.refresh(user, ['a'], NOW);

    expect(await sut.held(user, NOW)).toBe(0);
  });
});
