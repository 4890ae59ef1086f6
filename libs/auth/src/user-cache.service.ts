import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createRedisClient, RedisClient, RedisConnection } from '@app/common';
import { authConfig, AuthConfig, redisConfig, RedisConfig } from '@app/config';
import { UserRecord } from './user.repository';

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
  /** Called with a user's id, or with undefined after the channel was not heard for a while (anyone may have changed). */
  private readonly changeListeners: ((userId?: string) => void)[] = [];
  private heardBefore = false;

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
    this.subscriber.on('message', (_channel: string, userId: string) => {
      this.forget(userId);
      this.changeListeners.forEach((listener) => listener(userId));
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
  onChange(listener: (userId?: string) => void): void {
    this.changeListeners.push(listener);
  }

  /** Tells every instance (this one included) that the user changed; call after the database write. */
  async invalidate(userId: string): Promise<void> {
    this.forget(userId);
    await this.redis.publish(this.channel, userId);
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
