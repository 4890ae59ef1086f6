import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { generationConfig, GenerationConfig } from '@app/config';
import { DAY_MS, JobLimits, LimitDecision, MINUTE_MS, UserJobLimits } from './user-job-limits';

const WINDOW_NAMES = { minute: { text: 'minute', env: 'USER_JOBS_PER_MINUTE', ms: MINUTE_MS }, day: { text: 'day', env: 'USER_JOBS_PER_DAY', ms: DAY_MS } } as const;

/** Seconds until the next 00:00 UTC. */
export function secondsUntilUtcMidnight(now = Date.now()): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((midnight.getTime() - now) / 1000));
}

/**
 * The per-user limits on queuing jobs (USER_JOBS_PER_MINUTE, USER_JOBS_PER_DAY as sliding windows,
 * USER_DAILY_TOKEN_BUDGET per UTC day), checked after validation and before a slot is taken: a refusal is
 * RATE_LIMITED (429) whose details carry Retry-After and the RateLimit-* values. A request that is not
 * queued after all gives its window entries back (`refund`).
 */
@Injectable()
export class JobRateLimits {
  constructor(
    private readonly limits: UserJobLimits,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  /** Takes `count` jobs for the request (a job id or a batch id), or throws RATE_LIMITED and takes nothing. */
  async admit(userId: string, requestId: string, count: number, now = Date.now()): Promise<void> {
    const limits = this.configured;
    if (!limits.perMinute && !limits.perDay && !limits.dailyTokenBudget) return;
    const decision = await this.limits.take(userId, requestId, count, limits, now);
    if (!decision.allowed) throw refusal(decision, count, now);
  }

  /** Gives back what `admit` took for the request; never throws (an entry left behind leaves the window by itself). */
  async refund(userId: string, requestId: string, count: number): Promise<void> {
    const limits = this.configured;
    if (!limits.perMinute && !limits.perDay) return;
    await this.limits.refund(userId, requestId, count).catch(() => undefined);
  }

  private get configured(): JobLimits {
    return { perMinute: this.config.userJobsPerMinute, perDay: this.config.userJobsPerDay, dailyTokenBudget: this.config.userDailyTokenBudget };
  }
}

function refusal(decision: LimitDecision, count: number, now: number): DomainError {
  if (decision.window === 'tokens') {
    const retryAfterSeconds = secondsUntilUtcMidnight(now);
    return new DomainError('RATE_LIMITED', `You used your ${decision.limit} tokens for today (USER_DAILY_TOKEN_BUDGET); new jobs can start after 00:00 UTC`, {
      limitName: 'USER_DAILY_TOKEN_BUDGET',
      budget: decision.limit,
      used: decision.used,
      retryAfterSeconds,
    });
  }
  const window = WINDOW_NAMES[decision.window ?? 'minute'];
  const rate = `${decision.limit} jobs per ${window.text}`;
  // A count over the limit itself never fits: it may be sent again, split, once the whole window is clear.
  const retryAfterSeconds = Math.max(1, Math.ceil((decision.retryAfterMs ?? window.ms) / 1000));
  const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
  let message: string;
  if (decision.retryAfterMs === undefined) message = `A batch of ${count} jobs is more than the ${rate} you may queue (${window.env}); send at most ${decision.limit} at a time`;
  else if (count > 1) message = `A batch of ${count} jobs would take you past ${rate} (${window.env}; ${decision.remaining} left); try again in ${retryAfterSeconds} s`;
  else message = `You may queue at most ${rate} (${window.env}); try again in ${retryAfterSeconds} s`;
  return new DomainError('RATE_LIMITED', message, {
    limitName: window.env,
    window: window.text,
    limit: decision.limit,
    remaining: decision.remaining,
    resetSeconds,
    retryAfterSeconds,
  });
}
