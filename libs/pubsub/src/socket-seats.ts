import { defineScripts, RedisClient, userKeyPrefix } from '@app/common';

/** A seat not refreshed for this long is free again (its API instance died without letting go). */
export const SEAT_TTL_MS = 90_000;
/** Each instance refreshes its sockets' seats this often. */
export const SEAT_HEARTBEAT_MS = 30_000;

/**
 * Takes a seat for the socket unless the user holds `max` live ones: KEYS[1] a sorted set of socket ids
 * scored by when their seat expires; expired ones are dropped first. ARGV: now, ttl, max, socketId.
 */
const TAKE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[4]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** Pushes the expiry of the seats still held (ZADD XX: a released one stays released). ARGV: expiresAt, ttl, socketId... */
const REFRESH = `
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i]) end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

interface SeatCommands {
  socketSeatsTake(key: string, now: number, ttlMs: number, max: number, socketId: string): Promise<number>;
  socketSeatsRefresh(key: string, expiresAt: number, ttlMs: number, ...socketIds: string[]): Promise<number>;
}

/**
 * The live sockets of each user across all API instances (MAX_SOCKETS_PER_USER), in Redis under the
 * user's {hash tag}: a seat is taken at the handshake, freed at disconnect, and kept alive by its
 * instance's heartbeat, so the seats of an instance that died expire by themselves.
 */
export class SocketSeats {
  private readonly redis: RedisClient & SeatCommands;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    readonly max: number,
  ) {
    this.redis = defineScripts<SeatCommands>(redis, {
      socketSeatsTake: { keys: 1, lua: TAKE },
      socketSeatsRefresh: { keys: 1, lua: REFRESH },
    });
  }

  /** False when the user already holds `max` seats. */
  async take(userId: string, socketId: string, now = Date.now()): Promise<boolean> {
    return (await this.redis.socketSeatsTake(this.key(userId), now, SEAT_TTL_MS, this.max, socketId)) === 1;
  }

  async release(userId: string, socketId: string): Promise<void> {
    await this.redis.zrem(this.key(userId), socketId);
  }

  /** Keeps the seats of these sockets (one user's) alive for another SEAT_TTL_MS. */
  async refresh(userId: string, socketIds: string[], now = Date.now()): Promise<void> {
    if (socketIds.length > 0) await this.redis.socketSeatsRefresh(this.key(userId), now + SEAT_TTL_MS, SEAT_TTL_MS, ...socketIds);
  }

  /** Seats the user holds now (expired ones not counted). */
  async held(userId: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.key(userId), `(${now}`, '+inf');
  }

  private key(userId: string): string {
    return `${userKeyPrefix(this.prefix, userId)}:sockets`;
  }
}
