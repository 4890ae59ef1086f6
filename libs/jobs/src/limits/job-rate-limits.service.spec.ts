import { GenerationConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { JobRateLimits, secondsUntilUtcMidnight } from './job-rate-limits.service';
import { UserJobLimits } from './user-job-limits';

const NOW = Date.parse('2026-11-24T22:30:00Z');
const userId = '64b7f0c2a1b2c3d4e5f60718';

describe(JobRateLimits.name, () => {
  let sut: JobRateLimits;
  let limits: jest.Mocked<UserJobLimits>;
  const config = { userJobsPerMinute: 10, userJobsPerDay: 500, userDailyTokenBudget: 100_000 } as GenerationConfig;

  beforeEach(() => {
    limits = strictMock(UserJobLimits);
    sut = new JobRateLimits(limits, config);
  });

  it('takes the count with the configured limits and lets an allowed request through', async () => {
    limits.take.mockResolvedValue({ allowed: true, window: 'minute', limit: 10, remaining: 9, resetMs: 60_000, retryAfterMs: 0, used: 1 });

    await sut.admit(userId, 'job-1', 1, NOW);

    expect(limits.take).toHaveBeenCalledWith(userId, 'job-1', 1, { perMinute: 10, perDay: 500, dailyTokenBudget: 100_000 }, NOW);
  });

  it('answers RATE_LIMITED naming the limit, with the header values in whole seconds', async () => {
    limits.take.mockResolvedValue({ allowed: false, window: 'minute', limit: 10, remaining: 0, resetMs: 41_200, retryAfterMs: 41_200, used: 10 });

    await expect(sut.admit(userId, 'job-1', 1, NOW)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: 'You may queue at most 10 jobs per minute (USER_JOBS_PER_MINUTE); try again in 42 s',
      details: { limitName: 'USER_JOBS_PER_MINUTE', window: 'minute', limit: 10, remaining: 0, resetSeconds: 42, retryAfterSeconds: 42 },
    });
  });

  it('says how many are left when a batch does not fit, and that one over the limit itself never will', async () => {
    limits.take.mockResolvedValueOnce({ allowed: false, window: 'day', limit: 500, remaining: 5, resetMs: 3_600_000, retryAfterMs: 7_200_000, used: 495 });
    await expect(sut.admit(userId, 'batch-1', 6, NOW)).rejects.toMatchObject({ message: 'A batch of 6 jobs would take you past 500 jobs per day (USER_JOBS_PER_DAY; 5 left); try again in 7200 s' });

    limits.take.mockResolvedValueOnce({ allowed: false, window: 'minute', limit: 10, remaining: 10, resetMs: 60_000, retryAfterMs: undefined, used: 0 });
    await expect(sut.admit(userId, 'batch-2', 11, NOW)).rejects.toMatchObject({
      message: 'A batch of 11 jobs is more than the 10 jobs per minute you may queue (USER_JOBS_PER_MINUTE); send at most 10 at a time',
      details: { retryAfterSeconds: 60 },
    });
  });

  it('refuses past the token budget until midnight UTC', async () => {
    limits.take.mockResolvedValue({ allowed: false, window: 'tokens', limit: 100_000, remaining: 0, resetMs: 0, retryAfterMs: 0, used: 100_250 });

    await expect(sut.admit(userId, 'job-1', 1, NOW)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: 'You used your 100000 tokens for today (USER_DAILY_TOKEN_BUDGET); new jobs can start after 00:00 UTC',
      details: { limitName: 'USER_DAILY_TOKEN_BUDGET', budget: 100_000, used: 100_250, retryAfterSeconds: 5400 },
    });
  });

  it('calls nothing with every limit off, and refunds nothing without windows', async () => {
    sut = new JobRateLimits(limits, { userJobsPerMinute: 0, userJobsPerDay: 0, userDailyTokenBudget: 0 } as GenerationConfig);

    await sut.admit(userId, 'job-1', 1, NOW);
    await sut.refund(userId, 'job-1', 1);
    // Strict mocks: neither take nor refund was called.
  });

  it('refunds without ever throwing (an entry left behind leaves the window by itself)', async () => {
    limits.refund.mockRejectedValue(new Error('Connection is closed.'));

    await expect(sut.refund(userId, 'job-1', 3)).resolves.toBeUndefined();
    expect(limits.refund).toHaveBeenCalledWith(userId, 'job-1', 3);
  });

  it.each([
    ['2026-11-24T23:59:59.500Z', 1],
    ['2026-11-24T00:00:00Z', 86_400],
    ['2026-11-24T12:00:00Z', 43_200],
  ])('counts the seconds from %s to the next midnight UTC: %i', (at, seconds) => {
    expect(secondsUntilUtcMidnight(Date.parse(at))).toBe(seconds);
  });
});
