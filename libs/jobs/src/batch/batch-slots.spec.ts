import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { JobSlotsRepository } from '../job-slots.repository';

/** The batch cap of JobSlotsRepository, against the real Redis of the test run. */
describe(`${JobSlotsRepository.name} (batch slots)`, () => {
  let redis: RedisConnection;
  let sut: JobSlotsRepository;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}batch-slots` } as RedisConfig;
  const userId = () => randomBytes(12).toString('hex');
  const ids = (name: string, count: number) => Array.from({ length: count }, (_, i) => `${name}-${i}`);

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'batch-slots-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new JobSlotsRepository(redis, config);
  });
  afterAll(() => redis.disconnect());

  it('takes a whole batch or nothing: of 10 concurrent batches of 30 under a cap of 100, exactly 3 get in', async () => {
    const user = userId();
    const results = await Promise.all(Array.from({ length: 10 }, (_, b) => sut.acquireBatch(user, ids(`b${b}`, 30), 100)));

    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await sut.slots(user)).toHaveLength(90);
    expect(await sut.acquireBatch(user, ids('late', 11), 100)).toBeUndefined();
    expect(await sut.acquireBatch(user, ids('fits', 10), 100)).toHaveLength(10);
  });

  it('places each job after all of the user’s unfinished jobs, normal and batch', async () => {
    const user = userId();
    await sut.acquire(user, 'single-1', 20);
    await sut.acquire(user, 'single-2', 20);

    expect(await sut.acquireBatch(user, ids('a', 3), 10)).toEqual([3, 4, 5]);
    expect(await sut.acquireBatch(user, ids('b', 2), 10)).toEqual([6, 7]);
    // The normal cap does not count batch jobs, but the place does: 5 batch and 2 normal jobs are ahead.
    expect(await sut.acquire(user, 'single-3', 3)).toBe(8);
    expect(await sut.acquire(user, 'single-3', 3)).toBe(8);
    expect(await sut.acquire(user, 'single-4', 3)).toBe(0);
  });

  it('frees batch slots with release (once), and lists them among the user’s slots', async () => {
    const user = userId();
    await sut.acquireBatch(user, ids('a', 2), 2);
    expect(await sut.usersWithSlots()).toContain(user);
    expect((await sut.slots(user)).map((slot) => slot.jobId).sort()).toEqual(['a-0', 'a-1']);

    await sut.release(user, 'a-0');
    await sut.release(user, 'a-0');
    expect(await sut.acquireBatch(user, ['c-0'], 2)).toEqual([2]);
    await sut.release(user, 'a-1');
    await sut.release(user, 'c-0');
    expect(await sut.usersWithSlots()).not.toContain(user);
  });

  it('does not give a batch job a normal slot back on restore', async () => {
    const user = userId();
    await sut.acquireBatch(user, ['batch-job'], 5);

    expect(await sut.restore(user, 'batch-job', Date.now())).toBe(false);
    expect(await sut.slots(user)).toHaveLength(1);
  });
});
