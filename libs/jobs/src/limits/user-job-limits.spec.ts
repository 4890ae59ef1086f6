import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { DAY_MS, JobLimits, MINUTE_MS, UserJobLimits, utcDay } from './user-job-limits';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const limits = (overrides: Partial<JobLimits> = {}): JobLimits => ({ perMinute: 10, perDay: 500, dailyTokenBudget: 0, ...overrides });

/** Against the real Redis of the test run: the windows must be exact under real concurrency. */
describe(UserJobLimits.name, () => {
  let redis: RedisConnection;
  let sut: UserJobLimits;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}limits` } as RedisConfig;
  const userId = () => randomBytes(12).toString('hex');

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'limits-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new UserJobLimits(redis, config);
  });
  afterAll(() => redis.disconnect());

  it('lets exactly 10 of 50 concurrent takes in, and counts only those in the day window', async () => {
    const user = userId();
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => sut.take(user, `job-${i}`, 1, limits(), NOW)));

    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
    const refused = decisions.filter((decision) => !decision.allowed);
    expect(refused).toHaveLength(40);
    expect(refused.every((decision) => decision.window === 'minute' && decision.limit === 10 && decision.remaining === 0 && decision.retryAfterMs === MINUTE_MS)).toBe(true);
    // The day window took the same 10: one more minute later leaves 489 of 500.
    const later = await sut.take(user, 'later', 1, limits({ perMinute: 0 }), NOW + MINUTE_MS);
    expect(later).toMatchObject({ allowed: true, window: 'day', limit: 500, remaining: 489, used: 11 });
  });

  it('takes in both windows or in none: a day window that refuses leaves the minute untouched', async () => {
    const user = userId();
    expect((await sut.take(user, 'a', 3, limits({ perDay: 4 }), NOW)).allowed).toBe(true);

    const refused = await sut.take(user, 'b', 2, limits({ perDay: 4 }), NOW + 1000);

    expect(refused).toMatchObject({ allowed: false, window: 'day', limit: 4, remaining: 1 });
    // The minute still holds only the first 3: 7 more fit (with the day off).
    expect(await sut.take(user, 'c', 7, limits({ perDay: 0 }), NOW + 2000)).toMatchObject({ allowed: true, window: 'minute', remaining: 0 });
  });

  it('reports the window that refuses for longest when both do', async () => {
    const user = userId();
    await sut.take(user, 'a', 2, limits({ perMinute: 2, perDay: 2 }), NOW);

    expect(await sut.take(user, 'b', 1, limits({ perMinute: 2, perDay: 2 }), NOW + 10_000)).toMatchObject({ allowed: false, window: 'day', retryAfterMs: DAY_MS - 10_000 });
  });

  it('refuses a batch larger than what remains whole, and says when it fits: once enough of the oldest entries leave', async () => {
    const user = userId();
    for (let i = 0; i < 5; i++) await sut.take(user, `job-${i}`, 1, limits(), NOW + i * 1000);

    const batch = await sut.take(user, 'batch', 6, limits(), NOW + 10_000);

    // 5 + 6 = 11: the oldest entry (taken at NOW) must leave first, at NOW + 60 s.
    expect(batch).toMatchObject({ allowed: false, window: 'minute', limit: 10, remaining: 5, resetMs: 50_000, retryAfterMs: 50_000 });
    expect(await sut.take(user, 'small', 5, limits(), NOW + 10_000)).toMatchObject({ allowed: true, remaining: 0 });
    // Now 10 held: a batch of 3 waits for the third oldest (NOW + 2 s) to leave.
    expect(await sut.take(user, 'three', 3, limits(), NOW + 20_000)).toMatchObject({ allowed: false, retryAfterMs: 42_000, resetMs: 40_000 });
  });

  it('slides: entries leave the window exactly one window after they were taken', async () => {
    const user = userId();
    await sut.take(user, 'a', 10, limits(), NOW);

    expect((await sut.take(user, 'b', 1, limits(), NOW + MINUTE_MS - 1)).allowed).toBe(false);
    expect(await sut.take(user, 'b', 1, limits(), NOW + MINUTE_MS)).toMatchObject({ allowed: true, remaining: 9, resetMs: MINUTE_MS });
  });

  it('never admits a count over the limit itself (retryAfter unknown)', async () => {
    expect(await sut.take(userId(), 'big', 11, limits(), NOW)).toMatchObject({ allowed: false, window: 'minute', remaining: 10, retryAfterMs: undefined });
  });

  it('gives a refunded request its entries back, in both windows, and only its own', async () => {
    const user = userId();
    await sut.take(user, 'kept', 4, limits({ perDay: 8 }), NOW);
    await sut.take(user, 'refunded', 4, limits({ perDay: 8 }), NOW);
    expect((await sut.take(user, 'x', 1, limits({ perDay: 8 }), NOW)).allowed).toBe(false);

    await sut.refund(user, 'refunded', 4);
    await sut.refund(user, 'refunded', 4);

    expect(await sut.take(user, 'y', 4, limits({ perDay: 8 }), NOW)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('does nothing with every limit off', async () => {
    expect(await sut.take(userId(), 'a', 1000, limits({ perMinute: 0, perDay: 0 }), NOW)).toMatchObject({ allowed: true, window: undefined });
  });

  describe('the daily token counter', () => {
    it('counts a job once however often it is finished, and a larger total later only by the difference', async () => {
      const user = userId();
      const day = utcDay(NOW);

      const added = await Promise.all(Array.from({ length: 20 }, () => sut.countTokens(user, 'job-1', day, 120)));
      expect(added.reduce((sum, n) => sum + n, 0)).toBe(120);
      expect(await sut.countTokens(user, 'job-2', day, 30)).toBe(30);
      expect(await sut.countTokens(user, 'job-2', day, 50)).toBe(20);
      expect(await sut.countTokens(user, 'job-2', day, 50)).toBe(0);

      expect(await sut.tokensUsed(user, day)).toBe(170);
      expect(await sut.tokensUsed(user, '2026-11-25')).toBe(0);
    });

    it('refuses new jobs once the day reaches the budget, before any window is taken', async () => {
      const user = userId();
      await sut.countTokens(user, 'job-1', utcDay(NOW), 99);
      expect((await sut.take(user, 'a', 1, limits({ dailyTokenBudget: 100 }), NOW)).allowed).toBe(true);
      await sut.countTokens(user, 'job-2', utcDay(NOW), 1);

      expect(await sut.take(user, 'b', 1, limits({ dailyTokenBudget: 100 }), NOW)).toMatchObject({ allowed: false, window: 'tokens', limit: 100, used: 100 });
      // A new UTC day starts from nothing.
      expect((await sut.take(user, 'c', 1, limits({ dailyTokenBudget: 100 }), Date.parse('2026-11-25T00:00:00Z'))).allowed).toBe(true);
      // b took nothing: a, c = 2 in the day window.
      expect(await sut.take(user, 'd', 1, limits({ perMinute: 0, perDay: 3 }), Date.parse('2026-11-25T00:00:01Z'))).toMatchObject({ allowed: true, remaining: 0 });
    });
  });
});
