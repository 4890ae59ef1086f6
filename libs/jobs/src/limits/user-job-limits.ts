import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection, userKeyPrefix } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

export const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 3600_000;
/** A day's token counter, and each job's "counted" marker, outlive the day they belong to. */
const TOKENS_TTL_MS = 2 * DAY_MS;
/** Members added per ZADD call (Lua's unpack has a stack limit). */
const ZADD_CHUNK = 500;

/**
 * Sliding-window logs: KEYS[1] the user's last minute, KEYS[2] the last day (sorted sets of one member
 * per job, scored by when it was taken), KEYS[3] today's token counter. Trims both windows, then takes
 * `count` members in BOTH or in NONE. The token budget is checked first (used >= budget refuses).
 * ARGV: now, count, requestId, minuteLimit, minuteMs, dayLimit, dayMs, budget (a limit of 0 is off).
 * Returns { allowed, window (1 minute, 2 day, 3 tokens; for an allowed take the tightest window), limit,
 * remaining, resetMs (until the window's oldest member leaves), retryAfterMs (-1: the count can never fit) }.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local budget = tonumber(ARGV[8])
if budget > 0 then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used >= budget then return {0, 3, budget, 0, 0, 0, used} end
end
local refusal = nil
local tightest = nil
for i = 1, 2 do
  local limit = tonumber(ARGV[2 + 2 * i])
  local window = tonumber(ARGV[3 + 2 * i])
  if limit > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
    local used = redis.call('ZCARD', KEYS[i])
    local reset = window
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if oldest[2] then reset = tonumber(oldest[2]) + window - now end
    if used + count > limit then
      local retry = -1
      if count <= limit then
        local rank = used + count - limit - 1
        local freeing = redis.call('ZRANGE', KEYS[i], rank, rank, 'WITHSCORES')
        retry = tonumber(freeing[2]) + window - now
      end
      local remaining = limit - used
      if remaining < 0 then remaining = 0 end
      if refusal == nil or retry == -1 or (refusal[6] ~= -1 and retry > refusal[6]) then
        refusal = {0, i, limit, remaining, reset, retry, used}
      end
    elseif tightest == nil or limit - used - count < tightest[4] then
      tightest = {1, i, limit, limit - used - count, reset, 0, used + count}
    end
  end
end
if refusal then return refusal end
for i = 1, 2 do
  local window = tonumber(ARGV[3 + 2 * i])
  if tonumber(ARGV[2 + 2 * i]) > 0 then
    local members = {}
    for k = 1, count do
      members[#members + 1] = now
      members[#members + 1] = ARGV[3] .. ':' .. k
      if #members >= ${ZADD_CHUNK * 2} or k == count then
        redis.call('ZADD', KEYS[i], unpack(members))
        members = {}
      end
    end
    redis.call('PEXPIRE', KEYS[i], window)
  end
end
if tightest then return tightest end
return {1, 0, 0, 0, 0, 0, 0}
`;

/** Gives a request's members back to both windows (its job or batch was not queued after all). ARGV: requestId, count. */
const REFUND = `
local removed = 0
for i = 1, 2 do
  for k = 1, tonumber(ARGV[2]) do removed = removed + redis.call('ZREM', KEYS[i], ARGV[1] .. ':' .. k) end
end
return removed
`;

/**
 * Counts a finished job's tokens into its day (KEYS[1]) once: KEYS[2] remembers how many were counted for
 * it, so a repeated finish adds nothing and a larger total reported later (a cancelled job's usage) adds
 * only the difference. ARGV: total, ttlMs. Returns the tokens added.
 */
const COUNT_TOKENS = `
local total = tonumber(ARGV[1])
local counted = tonumber(redis.call('GET', KEYS[2]) or '-1')
if counted >= total then return 0 end
if counted < 0 then counted = 0 end
redis.call('INCRBY', KEYS[1], total - counted)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], total, 'PX', ARGV[2])
return total - counted
`;

interface LimitCommands {
  userJobLimitsTake(minute: string, day: string, tokens: string, ...args: (string | number)[]): Promise<number[]>;
  userJobLimitsRefund(minute: string, day: string, requestId: string, count: number): Promise<number>;
  userJobLimitsCountTokens(tokens: string, counted: string, total: number, ttlMs: number): Promise<number>;
}

export type LimitWindow = 'minute' | 'day' | 'tokens';

export interface JobLimits {
  /** Jobs per sliding minute; 0 = off. */
  perMinute: number;
  /** Jobs per sliding 24 h; 0 = off. */
  perDay: number;
  /** Tokens per UTC day; 0 = off. */
  dailyTokenBudget: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** The window that refused; for an allowed take the one with the least left (undefined when all are off). */
  window?: LimitWindow;
  limit: number;
  /** Left in that window after this take (allowed), or before it (refused). */
  remaining: number;
  /** Until that window's oldest entry leaves it. */
  resetMs: number;
  /** When this request would fit (refused); undefined when it never can (a count over the limit); 0 when allowed. */
  retryAfterMs?: number;
  /** Taken in that window (with this take when allowed); tokens used today for `tokens`. */
  used: number;
}

const WINDOWS: (LimitWindow | undefined)[] = [undefined, 'minute', 'day', 'tokens'];

/** The UTC day of a moment, `YYYY-MM-DD`. */
export function utcDay(at: Date | number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * Per-user job windows and the daily token counter, exact across API instances: every change is one Lua
 * script on keys under the user's {hash tag}, so a Redis Cluster runs each on one node.
 */
@Injectable()
export class UserJobLimits {
  private readonly redis: RedisClient & LimitCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<LimitCommands>(redis, {
      userJobLimitsTake: { keys: 3, lua: TAKE },
      userJobLimitsRefund: { keys: 2, lua: REFUND },
      userJobLimitsCountTokens: { keys: 2, lua: COUNT_TOKENS },
    });
  }

  /** Takes `count` jobs (members `<requestId>:1..count`) in both windows, or none; `now` in ms. */
  async take(userId: string, requestId: string, count: number, limits: JobLimits, now = Date.now()): Promise<LimitDecision> {
    const [allowed, window, limit, remaining, resetMs, retryAfterMs, used] = await this.redis.userJobLimitsTake(
      this.key(userId, 'jobs-minute'),
      this.key(userId, 'jobs-day'),
      this.tokensKey(userId, utcDay(now)),
      now,
      count,
      requestId,
      limits.perMinute,
      MINUTE_MS,
      limits.perDay,
      DAY_MS,
      limits.dailyTokenBudget,
    );
    return { allowed: allowed === 1, window: WINDOWS[window], limit, remaining, resetMs, retryAfterMs: retryAfterMs < 0 ? undefined : retryAfterMs, used };
  }

  /** Gives back what `take` took for the request. */
  async refund(userId: string, requestId: string, count: number): Promise<void> {
    await this.redis.userJobLimitsRefund(this.key(userId, 'jobs-minute'), this.key(userId, 'jobs-day'), requestId, count);
  }

  /** Counts a finished job's tokens into `day` once per `recordId` (a larger total later adds the difference). Returns the tokens added. */
  async countTokens(userId: string, recordId: string, day: string, totalTokens: number): Promise<number> {
    return this.redis.userJobLimitsCountTokens(this.tokensKey(userId, day), this.key(userId, `tokens-counted:${recordId}`), Math.max(0, Math.round(totalTokens)), TOKENS_TTL_MS);
  }

  /** Tokens the user's jobs used on `day` (UTC). */
  async tokensUsed(userId: string, day: string): Promise<number> {
    return Number((await this.redis.get(this.tokensKey(userId, day))) ?? 0);
  }

  private tokensKey(userId: string, day: string): string {
    return this.key(userId, `tokens:${day}`);
  }

  private key(userId: string, name: string): string {
    return `${userKeyPrefix(this.redisOptions.prefix, userId)}:${name}`;
  }
}
