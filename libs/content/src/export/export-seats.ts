import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, DomainError, RedisClient, RedisConnection, userKeyPrefix } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** Library exports one user may run at once, across API instances. */
export const EXPORTS_AT_ONCE = 2;
/** A seat whose release was lost (the instance died mid-export) frees itself after this. */
const SEAT_TTL_MS = 15 * 60_000;
/** What a refused client is told to wait. */
const RETRY_AFTER_SECONDS = 10;

/** Takes a seat under the cap: the seat count, or 0 at the cap. ARGV: cap, ttl. */
const TAKE = `
local held = redis.call('INCR', KEYS[1])
if held > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return held
`;

/** Gives a seat back, never below zero. */
const RELEASE = `
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held <= 1 then redis.call('DEL', KEYS[1]) else redis.call('DECR', KEYS[1]) end
return 0
`;

interface SeatCommands {
  exportSeatTake(key: string, cap: number, ttlMs: number): Promise<number>;
  exportSeatRelease(key: string): Promise<number>;
}

/**
 * A whole-library PDF is seconds of CPU and a database cursor held open while the client reads: each user runs
 * at most EXPORTS_AT_ONCE at a time (429 beyond), so one account cannot tie up the API with parallel exports.
 */
@Injectable()
export class ExportSeats {
  private readonly redis: RedisClient & SeatCommands;

  constructor(
    @Inject(RedisConnection) redis: RedisConnection,
    @Inject(redisConfig.KEY) private readonly config: RedisConfig,
  ) {
    this.redis = defineScripts<SeatCommands>(redis, {
      exportSeatTake: { keys: 1, lua: TAKE },
      exportSeatRelease: { keys: 1, lua: RELEASE },
    });
  }

  /** A seat for one export, given back by calling the returned function (once, whatever calls it). */
  async take(userId: string): Promise<() => void> {
    const key = this.key(userId);
    if ((await this.redis.exportSeatTake(key, EXPORTS_AT_ONCE, SEAT_TTL_MS)) === 0) {
      throw new DomainError('RATE_LIMITED', `You can run at most ${EXPORTS_AT_ONCE} exports at a time; wait for one to finish`, {
        limitName: 'EXPORTS_AT_ONCE',
        limit: EXPORTS_AT_ONCE,
        remaining: 0,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Best effort: should Redis be away, the seat frees itself after SEAT_TTL_MS.
      this.redis.exportSeatRelease(key).catch(() => undefined);
    };
  }

  private key(userId: string): string {
    return `${userKeyPrefix(this.config.prefix, userId)}:export-seats`;
  }
}
