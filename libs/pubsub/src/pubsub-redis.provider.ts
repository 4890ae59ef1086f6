import { Provider } from '@nestjs/common';
import Redis from 'ioredis';
import { RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** Commands and PUBLISH of the bridge: fails fast while Redis is down, so callers retry or answer 503. */
export class PubSubConnection extends RedisConnection {}

export const pubSubConnectionProvider: Provider = {
  provide: PubSubConnection,
  inject: [redisConfig.KEY],
  useFactory: (config: RedisConfig) => new PubSubConnection(config.url, 'pubsub'),
};

/**
 * The subscriber connection: unlike the command connection it keeps an offline queue and retries
 * forever, so a Redis restart ends with the channels subscribed again (ioredis resubscribes by itself).
 */
export function createSubscriberConnection(url: string, prefix: string): Redis {
  return new Redis(url, {
    // Named after the prefix, so an operator (or a test) can tell the stacks' subscribers apart in CLIENT LIST.
    connectionName: `pubsub-subscriber:${prefix}`,
    enableOfflineQueue: true,
    autoResubscribe: true,
    maxRetriesPerRequest: null,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}
