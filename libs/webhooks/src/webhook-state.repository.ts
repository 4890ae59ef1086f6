import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection, userKeyPrefix } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** How long a counted delivery is remembered, so a redelivered BullMQ job does not count twice. */
const COUNTED_TTL_S = 7 * 24 * 3600;

/**
 * Counts one finished delivery (all its attempts) once: a success resets the streak, a failure adds one,
 * and the failure that reaches the threshold marks the endpoint disabled (the mark, a timestamp, is set
 * once and kept until a success or a re-enable). Returns [streak, disabled mark or ''].
 * KEYS: the webhook's state hash, the delivery's counted marker. ARGV: ok|fail, threshold, now.
 */
const COUNT = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ${COUNTED_TTL_S}) then
  if ARGV[1] == 'ok' then
    redis.call('HSET', KEYS[1], 'streak', 0)
    redis.call('HDEL', KEYS[1], 'disabled')
  else
    local streak = redis.call('HINCRBY', KEYS[1], 'streak', 1)
    if streak >= tonumber(ARGV[2]) then redis.call('HSETNX', KEYS[1], 'disabled', ARGV[3]) end
  end
end
return { tonumber(redis.call('HGET', KEYS[1], 'streak') or '0'), redis.call('HGET', KEYS[1], 'disabled') or '' }
`;

interface StateCommands {
  webhookCountDelivery(state: string, counted: string, result: 'ok' | 'fail', threshold: number, now: number): Promise<[number, string]>;
}

export interface StreakState {
  streak: number;
  /** Set (ms, as a string) once the streak reached the threshold; the once-key of its webhook_disabled. */
  disabledMark?: string;
}

/**
 * A webhook's exclusive state in Redis: its failure streak (FerretDB's `$inc` is not atomic, and two
 * deliveries to one endpoint may finish at once) and its delivery-log write counter. Keys carry the
 * owner's hash tag, so a script's keys share a Redis Cluster slot.
 */
@Injectable()
export class WebhookStateRepository {
  private readonly redis: RedisClient & StateCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<StateCommands>(redis, { webhookCountDelivery: { keys: 2, lua: COUNT } });
  }

  /** Counts delivery `deliveryId` once, whoever calls how often. */
  async countDelivery(userId: string, webhookId: string, deliveryId: string, delivered: boolean, threshold: number, now = Date.now()): Promise<StreakState> {
    const [streak, mark] = await this.redis.webhookCountDelivery(this.stateKey(userId, webhookId), this.countedKey(userId, deliveryId), delivered ? 'ok' : 'fail', threshold, now);
    return { streak: Number(streak), disabledMark: mark || undefined };
  }

  /** The current failure streaks of one user's webhooks, in the order given. */
  async streaks(userId: string, webhookIds: string[]): Promise<number[]> {
    const values = await Promise.all(webhookIds.map((webhookId) => this.redis.hget(this.stateKey(userId, webhookId), 'streak')));
    return values.map((value) => Number(value ?? 0));
  }

  /** The next write number of the webhook's delivery log. */
  async nextLogSeq(userId: string, webhookId: string): Promise<number> {
    return this.redis.hincrby(this.stateKey(userId, webhookId), 'seq', 1);
  }

  /** A re-enabled endpoint starts a new streak (and may be disabled, and announced, again). */
  async resetStreak(userId: string, webhookId: string): Promise<void> {
    await this.redis.hdel(this.stateKey(userId, webhookId), 'streak', 'disabled');
  }

  async forget(userId: string, webhookId: string): Promise<void> {
    await this.redis.del(this.stateKey(userId, webhookId));
  }

  private stateKey(userId: string, webhookId: string): string {
    return `${userKeyPrefix(this.redisOptions.prefix, userId)}:webhook:${webhookId}`;
  }

  private countedKey(userId: string, deliveryId: string): string {
    return `${userKeyPrefix(this.redisOptions.prefix, userId)}:webhook-counted:${deliveryId}`;
  }
}
