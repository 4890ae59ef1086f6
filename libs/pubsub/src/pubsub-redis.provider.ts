import { Provider } from '@nestjs/common';
import { createRedisClient, firstConnection, RedisClient, RedisEndpoint } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** Commands and PUBLISH of libs/pubsub: fails fast while Redis is down, so callers retry or answer 503. */
export const PubSubConnection = Symbol('PubSubConnection');
export type PubSubConnection = RedisClient;

export const pubSubConnectionProvider: Provider = {
  provide: PubSubConnection,
  inject: [redisConfig.KEY],
  useFactory: (config: RedisConfig) => firstConnection(createRedisClient(config, 'pubsub')),
};

/**
 * A subscriber connection: unlike the command connection it keeps an offline queue and retries
 * forever, so a Redis restart ends with the channels subscribed again (ioredis resubscribes by itself).
 * `name` tells the stacks' subscribers apart in CLIENT LIST (an operator's view, and the tests').
 */
export function createSubscriberConnection(endpoint: RedisEndpoint, name: string): RedisClient {
  return createRedisClient(endpoint, name, { enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null });
}
