import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection, userKeyPrefix } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** The member that says a per-user set was computed (a set with only it: computed, and empty). */
export const COMPUTED_MARKER = '~computed';

/**
 * Replaces the user's subscribed event types, unless a later recompute began meanwhile (its version is newer):
 * the last recompute to begin is the one that stays, and it read MongoDB after every change that began one.
 * KEYS: the events set, its version. ARGV: version, marker, types...
 */
const STORE_EVENTS = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
return 1
`;

/** Drops the events set and begins a recompute: returns its version. KEYS: the events set, its version. */
const INVALIDATE_EVENTS = `
redis.call('DEL', KEYS[1])
return redis.call('INCR', KEYS[2])
`;

/** [subscribed, computed] for one event type. KEYS: the events set. ARGV: type, marker. */
const HEARS = `return { redis.call('SISMEMBER', KEYS[1], ARGV[1]), redis.call('SISMEMBER', KEYS[1], ARGV[2]) }`;

/**
 * Takes a webhook slot, all or nothing: 1 when `id` holds one (taken now or before), 0 at the cap. A set not
 * yet seeded is first filled with the ids MongoDB holds (the webhooks made before the slots existed).
 * KEYS: the slots set. ARGV: cap, id, marker, existing ids...
 */
const TAKE_SLOT = `
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 0 then
  redis.call('SADD', KEYS[1], unpack(ARGV, 3))
end
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) - 1 >= tonumber(ARGV[1]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[2])
return 1
`;

interface LimitCommands {
  webhookStoreEvents(events: string, version: string, versionArg: number, ...members: string[]): Promise<number>;
  webhookInvalidateEvents(events: string, version: string): Promise<number>;
  webhookHears(events: string, type: string, marker: string): Promise<[number, number]>;
  webhookTakeSlot(slots: string, cap: number, id: string, marker: string, ...existing: string[]): Promise<number>;
}

/** What the events set says of one type: subscribed, not, or not computed yet. */
export type Hearing = 'yes' | 'no' | 'unknown';

/**
 * The per-user webhook state that must be exact under concurrency (FerretDB's conditional updates are not):
 * the event types the user's enabled webhooks hear (so an event nobody hears is never queued), the slots of
 * the 10-webhook cap, and the test-ping rate limit. All keys sit under the user's hash tag.
 */
@Injectable()
export class WebhookLimitsRepository {
  private readonly redis: RedisClient & LimitCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<LimitCommands>(redis, {
      webhookStoreEvents: { keys: 2, lua: STORE_EVENTS },
      webhookInvalidateEvents: { keys: 2, lua: INVALIDATE_EVENTS },
      webhookHears: { keys: 1, lua: HEARS },
      webhookTakeSlot: { keys: 1, lua: TAKE_SLOT },
    });
  }

  async hears(userId: string, type: string): Promise<Hearing> {
    const [member, computed] = await this.redis.webhookHears(this.key(userId, 'webhook-events'), type, COMPUTED_MARKER);
    if (!computed) return 'unknown';
    return member ? 'yes' : 'no';
  }

  /** Drops the cached types (emits read MongoDB until the next store) and returns the version a store must carry. */
  async invalidateEvents(userId: string): Promise<number> {
    return this.redis.webhookInvalidateEvents(this.key(userId, 'webhook-events'), this.key(userId, 'webhook-events-version'));
  }

  /** Caches the types (no TTL) unless another recompute began after `version`; true when stored. */
  async storeEvents(userId: string, version: number, types: string[]): Promise<boolean> {
    const stored = await this.redis.webhookStoreEvents(this.key(userId, 'webhook-events'), this.key(userId, 'webhook-events-version'), version, COMPUTED_MARKER, ...types);
    return stored === 1;
  }

  /** A slot for webhook `id` under `cap`; `existing` (the ids MongoDB holds) seeds a set not made yet. */
  async takeSlot(userId: string, id: string, cap: number, existing: string[]): Promise<boolean> {
    return (await this.redis.webhookTakeSlot(this.key(userId, 'webhook-slots'), cap, id, COMPUTED_MARKER, ...existing)) === 1;
  }

  async releaseSlots(userId: string, ids: string[]): Promise<void> {
    if (ids.length) await this.redis.srem(this.key(userId, 'webhook-slots'), ...ids);
  }

  /** The ids holding slots (the marker left out). */
  async slotHolders(userId: string): Promise<string[]> {
    return (await this.redis.smembers(this.key(userId, 'webhook-slots'))).filter((member) => member !== COMPUTED_MARKER);
  }

  /** One ping per `intervalMs` per webhook: 0 when this one may go, otherwise the ms until the next may. */
  async claimPing(userId: string, webhookId: string, intervalMs: number): Promise<number> {
    const key = this.key(userId, `webhook-ping:${webhookId}`);
    if ((await this.redis.set(key, '1', 'PX', intervalMs, 'NX')) === 'OK') return 0;
    const left = await this.redis.pttl(key);
    return left > 0 ? left : intervalMs;
  }

  private key(userId: string, name: string): string {
    return `${userKeyPrefix(this.redisOptions.prefix, userId)}:${name}`;
  }
}
