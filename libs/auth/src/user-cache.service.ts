import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createRedisClient, RedisClient, RedisConnection } from '@app/common';
import { authConfig, AuthConfig, redisConfig, RedisConfig } from '@app/config';
import { UserRecord } from './user.repository';

/** A change to a user heard on the channel: what ended with it, when sessions ended (logout, password change). */
export interface UserChange {
  userId: string;
  /** Session ids ended by this change. */
  endedSessions: string[];
  /** Tokens issued at or before this time (ms) are void (logout-all, password change)... */
  tokensValidAfterMs?: number;
  /** ...but those of this session (the caller's, kept by a password change). */
  keptSessionId?: string;
}

/** The channel's message: `<userId>[ s:<sessionId>...][ t:<ms>][ k:<sessionId>]` (a bare user id is what older instances send). */
function encodeChange(change: UserChange): string {
  const parts = [change.userId, ...change.endedSessions.map((id) => `s:${id}`)];
  if (change.tokensValidAfterMs !== undefined) parts.push(`t:${change.tokensValidAfterMs}`);
  if (change.keptSessionId !== undefined) parts.push(`k:${change.keptSessionId}`);
  return parts.join(' ');
}

function decodeChange(message: string): UserChange {
  const [userId, ...parts] = message.split(' ');
  const change: UserChange = { userId, endedSessions: [] };
  for (const part of parts) {
    if (part.startsWith('s:')) change.endedSessions.push(part.slice(2));
    else if (part.startsWith('t:') && Number.isFinite(Number(part.slice(2)))) change.tokensValidAfterMs = Number(part.slice(2));
    else if (part.startsWith('k:')) change.keptSessionId = part.slice(2);
  }
  return change;
}

/**
 * Users recently read for authentication, so a request needs no database read. Every API instance
 * hears of a change to a user (deactivated, deleted, renamed, logged out) on one Redis channel and
 * forgets that user at once. While that channel is not heard (Redis away) nothing is served from
 * memory, and the whole cache is dropped when it is heard again: an invalidation can never be missed.
 */
@Injectable()
export class UserCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(UserCache.name);
  private readonly users?: LRUCache<string, UserRecord>;
  private subscriber?: RedisClient;
  private listening = false;
  /** Grows with every invalidation heard: a read that overlapped one is not cached. */
  private generation = 0;
  /** Called with a user's change, or with undefined after the channel was not heard for a while (anyone may have changed). */
  private readonly changeListeners: ((change?: UserChange) => void)[] = [];
  /** Called after every successful subscription, the first included, before the change listeners hear undefined. */
  private readonly listenListeners: (() => void)[] = [];
  private heardBefore = false;
  /** Grows with every successful subscription: state loaded for one subscription is stale after the next. */
  private subscriptionCount = 0;

  constructor(
    @Inject(RedisConnection) private readonly redis: RedisConnection,
    @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig,
    @Inject(authConfig.KEY) config: AuthConfig,
  ) {
    if (config.userCache.ttlMs > 0) this.users = new LRUCache({ max: config.userCache.max, ttl: config.userCache.ttlMs });
  }

  onModuleInit(): void {
    // Subscribed even with caching off (TTL 0): change listeners (the socket gateway) hear the channel too.
    // No automatic resubscribe: `listen` subscribes on every 'ready' and drops what was cached meanwhile.
    this.subscriber = createRedisClient(this.redisOptions, `user-cache:${this.redisOptions.prefix}`, { autoResubscribe: false, maxRetriesPerRequest: null });
    this.subscriber.on('message', (_channel: string, message: string) => {
      const change = decodeChange(message);
      this.forget(change.userId);
      this.changeListeners.forEach((listener) => listener(change));
    });
    this.subscriber.on('ready', () => this.listen());
    this.subscriber.on('close', () => this.deafen());
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  /** A snapshot to pass to `remember` after a database read: it refuses to cache across an invalidation. */
  get version(): number {
    return this.generation;
  }

  /** Whether the channel is heard now: what was learnt from it is current. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Changes with every (re)subscription: compare to tell whether the channel was lost since. */
  get subscriptions(): number {
    return this.subscriptionCount;
  }

  get(userId: string): UserRecord | undefined {
    return this.listening ? this.users?.get(userId) : undefined;
  }

  /** Caches what a read that started at `version` found, unless the user changed meanwhile. */
  remember(user: UserRecord, version: number): void {
    if (this.listening && version === this.generation) this.users?.set(user._id, user);
  }

  /**
   * Calls `listener` with every changed user's id this instance hears of (its own changes included,
   * through the channel), and with undefined when the channel is heard again after a gap: changes may have been missed.
   */
  onChange(listener: (change?: UserChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** Calls `listener` after every successful subscription to the channel (the first one too). */
  onListen(listener: () => void): void {
    this.listenListeners.push(listener);
  }

  /** Tells every instance (this one included) that the user changed; call after the database (or Redis) write. */
  async invalidate(userId: string, ended: Omit<UserChange, 'userId'> = { endedSessions: [] }): Promise<void> {
    this.forget(userId);
    await this.redis.publish(this.channel, encodeChange({ userId, ...ended }));
  }

  private forget(userId: string): void {
    this.generation++;
    this.users?.delete(userId);
  }

  private async listen(): Promise<void> {
    try {
      await this.subscriber!.subscribe(this.channel);
      // What was cached before the channel went quiet may have missed an invalidation.
      this.users?.clear();
      this.generation++;
      this.listening = true;
      this.subscriptionCount++;
      this.listenListeners.forEach((listener) => listener());
      if (this.heardBefore) this.changeListeners.forEach((listener) => listener(undefined));
      this.heardBefore = true;
    } catch (error) {
      this.logger.warn(`Could not subscribe to user changes: ${(error as Error).message}`);
    }
  }

  private deafen(): void {
    this.listening = false;
    this.users?.clear();
  }

  private get channel(): string {
    return `${this.redisOptions.prefix}:user-changed`;
  }
}
