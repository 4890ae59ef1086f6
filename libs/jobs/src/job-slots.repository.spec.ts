import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { IdempotencyRepository } from './idempotency.repository';
import { JobSlotsRepository } from './job-slots.repository';

/** Against the real Redis of the test run: the caps must hold under real concurrency. */
describe(JobSlotsRepository.name, () => {
  let redis: RedisConnection;
  let sut: JobSlotsRepository;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}slots` } as RedisConfig;
  const userId = () => randomBytes(12).toString('hex');

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'slots-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new JobSlotsRepository(redis, config);
  });
  afterAll(() => redis.disconnect());

  it('lets exactly `cap` of 100 concurrent requests in', async () => {
    const user = userId();
    const taken = await Promise.all(Array.from({ length: 100 }, (_, i) => sut.acquire(user, `job-${i}`, 20)));
    expect(taken.filter(Boolean)).toHaveLength(20);
    expect(await sut.slots(user)).toHaveLength(20);
  });

  it('frees a job’s slot once: a second release is a no-op, and taking it twice counts once', async () => {
    const user = userId();
    expect(await sut.acquire(user, 'a', 2)).toBe(1);
    expect(await sut.acquire(user, 'a', 2)).toBe(1);
    expect(await sut.acquire(user, 'b', 2)).toBe(2);
    expect(await sut.acquire(user, 'c', 2)).toBe(0);
    await sut.release(user, 'a');
    await sut.release(user, 'a');
    expect((await sut.slots(user)).map((slot) => slot.jobId)).toEqual(['b']);
    expect(await sut.usersWithSlots()).toContain(user);
    await sut.release(user, 'b');
    expect(await sut.usersWithSlots()).not.toContain(user);
  });

  it('restores a missing slot only while the job has no outcome kept', async () => {
    const user = userId();
    expect(await sut.restore(user, 'open', 1)).toBe(true);
    expect(await sut.restore(user, 'open', 1)).toBe(false);
    await redis.hset(`${config.prefix}:job:finishing`, 'outcome', '{}');
    expect(await sut.restore(user, 'finishing', 1)).toBe(false);
    expect((await sut.slots(user)).map((slot) => slot.jobId)).toEqual(['open']);
  });

  it("restores a batch job's slot among the batch slots, where MAX_ACTIVE_JOBS_PER_USER does not count it", async () => {
    const user = userId();
    expect(await sut.restore(user, 'batch-job', 1, true)).toBe(true);
    expect(await sut.restore(user, 'batch-job', 1, false)).toBe(false);

    expect(await sut.normalSlots(user)).toEqual([]);
    expect((await sut.slots(user)).map((slot) => slot.jobId)).toEqual(['batch-job']);
  });

  describe(IdempotencyRepository.name, () => {
    it('gives one key to exactly one of 50 racers, and lets the owner give it back', async () => {
      const keys = new IdempotencyRepository(redis, config);
      const user = userId();
      const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => keys.claim(user, 'retry-1', { jobId: `job-${i}`, fingerprint: 'f' })));
      const winners = claims.filter((claim) => claim === undefined);
      expect(winners).toHaveLength(1);
      const owner = claims.find((claim) => claim !== undefined)!;
      await keys.release(user, 'retry-1', { jobId: 'not-the-owner', fingerprint: 'f' });
      expect(await keys.claim(user, 'retry-1', { jobId: 'late', fingerprint: 'f' })).toEqual(owner);
      await keys.release(user, 'retry-1', owner);
      expect(await keys.claim(user, 'retry-1', { jobId: 'late', fingerprint: 'f' })).toBeUndefined();
    });
  });
});
