import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { EXPORTS_AT_ONCE, ExportSeats } from './export-seats';

/** Against the real Redis of the test run: the cap must hold under concurrent requests. */
describe(ExportSeats.name, () => {
  let redis: RedisConnection;
  let sut: ExportSeats;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}export-seats` } as RedisConfig;
  const userId = () => randomBytes(12).toString('hex');

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'export-seats-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new ExportSeats(redis, config);
  });
  afterAll(() => redis.disconnect());

  it(`lets ${EXPORTS_AT_ONCE} of 10 concurrent exports in, and one more after a release (released once however often it is called)`, async () => {
    const user = userId();
    const taken = await Promise.allSettled(Array.from({ length: 10 }, () => sut.take(user)));
    const seats = taken.filter((result): result is PromiseFulfilledResult<() => void> => result.status === 'fulfilled').map((result) => result.value);
    expect(seats).toHaveLength(EXPORTS_AT_ONCE);
    expect(taken.find((result) => result.status === 'rejected')).toMatchObject({ reason: { code: 'RATE_LIMITED', details: { limit: EXPORTS_AT_ONCE } } });

    seats[0]();
    seats[0]();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await Promise.allSettled([sut.take(user), sut.take(user)]);
    expect(again.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
  });
});
