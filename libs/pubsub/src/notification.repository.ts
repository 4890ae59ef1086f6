import { Inject, Injectable, Logger } from '@nestjs/common';
import { defineScripts, RedisClient } from '@app/common';
import { realtimeConfig, RealtimeConfig, redisConfig, RedisConfig } from '@app/config';
import { ClientEventName, isClientEventName, PubSubEnvelope, StoredNotification } from './client-events';
import { pubsubKeys } from './pubsub-keys';
import { PubSubConnection } from './pubsub-redis.provider';
import { compareStreamIds } from './stream-id';

/**
 * Records the event in the user's notification log (a stream trimmed by count and by age, using Redis' clock) and
 * publishes it with its stream id in one atomic step: an event is stored before anyone hears of it,
 * and the publish order of one user's events is their id order.
 * KEYS[1] stream; ARGV: max events, window ms, channel, event, payload JSON, correlation id, envelope JSON after its "{".
 */
const APPEND_AND_PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[4], 'payload', ARGV[5], 'cid', ARGV[6])
local now = redis.call('TIME')
local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[2])
redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', oldest))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], '{"id":"' .. id .. '",' .. ARGV[7])
return id
`;

/**
 * The same, at most once per `once` key (KEYS[2], kept ARGV[8] ms): a job's end is announced once
 * however many deliveries, finishers or reconciler runs reach it. Returns nil when already done.
 */
const APPEND_AND_PUBLISH_ONCE = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[8]) then return false end
${APPEND_AND_PUBLISH}`;

/**
 * The same, unless the `unless` once-key (KEYS[2]) was used: an event that must not follow another one (a
 * job's `processing` after its `cancelled`). Checked in the same step as the publish, so their order is Redis'.
 */
const APPEND_AND_PUBLISH_UNLESS = `
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
${APPEND_AND_PUBLISH}`;

/** How long a once-key outlives its event: longer than any redelivery of the job can come. */
const ONCE_TTL_MS = 7 * 24 * 3600_000;

/** Moves the cursor forward only (two tabs closing in either order keep the newer id). KEYS[1] cursor; ARGV: id, ttl ms. */
const ADVANCE_CURSOR = `
local current = redis.call('GET', KEYS[1])
if current then
  local cm, cs = string.match(current, '^(%d+)-(%d+)$')
  local nm, ns = string.match(ARGV[1], '^(%d+)-(%d+)$')
  cm, cs, nm, ns = tonumber(cm), tonumber(cs), tonumber(nm), tonumber(ns)
  if cm and (cm > nm or (cm == nm and cs >= ns)) then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

interface ScriptCommands {
  pubsubAppendAndPublish(key: string, ...args: (string | number)[]): Promise<string>;
  pubsubAppendAndPublishOnce(key: string, onceKey: string, ...args: (string | number)[]): Promise<string | null>;
  pubsubAppendAndPublishUnless(key: string, onceKey: string, ...args: (string | number)[]): Promise<string | null>;
  pubsubAdvanceCursor(key: string, id: string, ttlMs: number): Promise<number>;
}

type StreamEntry = [id: string, fields: string[]];

export interface StreamPage {
  events: StoredNotification[];
  /** The id of the last entry read, also when its payload could not be used. */
  lastId?: string;
  /** True when the read reached the end of the stream. */
  complete: boolean;
}

/** The Redis side of libs/pubsub: the notification logs (per-user streams), the disconnect cursors and the pubsub channels. */
@Injectable()
export class NotificationRepository {
  private readonly logger = new Logger(NotificationRepository.name);
  private readonly redis: RedisClient & ScriptCommands;

  constructor(
    @Inject(PubSubConnection) redis: PubSubConnection,
    @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig,
    @Inject(realtimeConfig.KEY) private readonly realtime: RealtimeConfig,
  ) {
    this.redis = defineScripts<ScriptCommands>(redis, {
      pubsubAppendAndPublish: { keys: 1, lua: APPEND_AND_PUBLISH },
      pubsubAppendAndPublishOnce: { keys: 2, lua: APPEND_AND_PUBLISH_ONCE },
      pubsubAppendAndPublishUnless: { keys: 2, lua: APPEND_AND_PUBLISH_UNLESS },
      pubsubAdvanceCursor: { keys: 1, lua: ADVANCE_CURSOR },
    });
  }

  /**
   * Stores the event in the user's notification log, then publishes it; returns its id. With `once`, does so only
   * the first time that key is used; with `unless`, only while that once-key is unused (undefined otherwise).
   */
  async appendAndPublish(envelope: Omit<PubSubEnvelope, 'id'>, once?: string, unless?: string): Promise<string | undefined> {
    const { event, userId, payload, correlationId } = envelope;
    const tail = JSON.stringify({ event, userId, payload, correlationId }).slice(1);
    const args = [
      this.realtime.maxEventsPerUser,
      this.realtime.replayWindowMs,
      pubsubKeys.channel(this.prefix, event),
      event,
      JSON.stringify(payload),
      correlationId ?? '',
      tail,
    ];
    const stream = pubsubKeys.stream(this.prefix, userId);
    if (unless !== undefined) return (await this.redis.pubsubAppendAndPublishUnless(stream, pubsubKeys.once(this.prefix, userId, unless), ...args)) ?? undefined;
    if (once === undefined) return this.redis.pubsubAppendAndPublish(stream, ...args);
    return (await this.redis.pubsubAppendAndPublishOnce(stream, pubsubKeys.once(this.prefix, userId, once), ...args, ONCE_TTL_MS)) ?? undefined;
  }

  /** Publishes without recording (ephemeral events). */
  async publish(envelope: PubSubEnvelope): Promise<void> {
    await this.redis.publish(pubsubKeys.channel(this.prefix, envelope.event), JSON.stringify(envelope));
  }

  /** Up to `count` recorded events after `after` (exclusive) that are inside the replay window, oldest first. */
  async readAfter(userId: string, after: string | undefined, count: number): Promise<StreamPage> {
    const windowStart = `${Math.max(0, Date.now() - this.realtime.replayWindowMs)}-0`;
    const start = after !== undefined && compareStreamIds(after, windowStart) >= 0 ? `(${after}` : windowStart;
    const entries = (await this.redis.xrange(pubsubKeys.stream(this.prefix, userId), start, '+', 'COUNT', count)) as StreamEntry[];
    const events: StoredNotification[] = [];
    for (const [id, fields] of entries) {
      const event = this.toNotification(id, fields);
      if (event) events.push(event);
    }
    return { events, lastId: entries.at(-1)?.[0], complete: entries.length < count };
  }

  async cursor(userId: string): Promise<string | undefined> {
    return (await this.redis.get(pubsubKeys.cursor(this.prefix, userId))) ?? undefined;
  }

  /** Sets the user's cursor to `id` unless it already points at a newer event; it expires with the replay window. */
  async advanceCursor(userId: string, id: string): Promise<void> {
    await this.redis.pubsubAdvanceCursor(pubsubKeys.cursor(this.prefix, userId), id, this.realtime.replayWindowMs);
  }

  private get prefix(): string {
    return this.redisOptions.prefix;
  }

  private toNotification(id: string, fields: string[]): StoredNotification | undefined {
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]] = fields[i + 1];
    const event: unknown = record.event;
    try {
      if (!isClientEventName(event)) throw new Error(`unknown event ${String(event)}`);
      return { id, event: event as ClientEventName, payload: JSON.parse(record.payload) };
    } catch (error) {
      this.logger.warn(`Skipping unreadable notification ${id}: ${(error as Error).message}`);
      return undefined;
    }
  }
}
