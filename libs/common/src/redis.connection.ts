import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { logConnectionErrors } from './connection-log';

/**
 * An ioredis connection for the request path: with no offline queue a command fails at once while
 * Redis is down (the API answers 503) instead of waiting; it reconnects by itself in the background.
 */
export class RedisConnection extends Redis implements OnModuleInit, OnApplicationShutdown {
  constructor(url: string, name: string, options: RedisOptions = {}) {
    super(url, {
      connectionName: name,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      ...options,
    });
    logConnectionErrors(this, new Logger(name), 'Redis');
  }

  /** Gives the first connection a moment before serving; a Redis that is down does not stop start-up. */
  async onModuleInit(): Promise<void> {
    if (this.status !== 'ready') await Promise.race([new Promise((resolve) => this.once('ready', resolve)), sleep(2000)]);
  }

  onApplicationShutdown(): void {
    this.disconnect();
  }
}
