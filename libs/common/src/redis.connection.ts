import { Logger } from '@nestjs/common';
import Redis, { Cluster, RedisOptions } from 'ioredis';
import { RedisNode } from '@app/config';
import { logConnectionErrors } from './connection-log';

/** A single Redis or a Redis Cluster: everything the product does with Redis works on either. */
export type RedisClient = Redis | Cluster;

/** Where to connect: a URL, or cluster seed nodes with the URL's user, password and TLS. */
export interface RedisEndpoint {
  url: string;
  clusterNodes?: RedisNode[];
}

/** Reconnect every 2 s at most (ioredis' and BullMQ's own backoffs grow much longer). */
export const reconnectDelay = (attempt: number): number => Math.min(attempt * 200, 2000);

/**
 * The injection token, and type, of the request-path connection: with no offline queue a command fails
 * at once while Redis is down (the API answers 503) instead of waiting; it reconnects in the background.
 */
export const RedisConnection = Symbol('RedisConnection');
export type RedisConnection = RedisClient;

/** Options of the request-path connection; subscribers and BullMQ override them to wait for Redis instead. */
export const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };

/** Opens a client named `name` (CLIENT LIST shows it), reconnecting every 2 s at most. */
export function createRedisClient(endpoint: RedisEndpoint, name: string, options: RedisOptions = failFast): RedisClient {
  const nodeOptions: RedisOptions = { connectionName: name, connectTimeout: 2000, retryStrategy: reconnectDelay, ...options };
  const client = endpoint.clusterNodes
    ? new Cluster(endpoint.clusterNodes, {
        enableOfflineQueue: nodeOptions.enableOfflineQueue ?? true,
        clusterRetryStrategy: reconnectDelay,
        redisOptions: { ...nodeOptions, ...credentialsOf(endpoint.url) },
      })
    : new Redis(endpoint.url, nodeOptions);
  logConnectionErrors(client, new Logger(name), 'Redis');
  return client;
}

/** Waits a moment for the first connection; a Redis that is down does not stop start-up. */
export async function firstConnection(client: RedisClient, waitMs = 2000): Promise<RedisClient> {
  if (client.status === 'ready') return client;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

/** The user, password and TLS of REDIS_URL, applied to every node of a cluster. */
function credentialsOf(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
  };
}
