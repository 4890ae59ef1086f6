import { registerAs } from '@nestjs/config';
import { IsOptional, Matches } from 'class-validator';
import { ConfigValidationError, firstSet, validateEnv } from './validate-env';

class RedisEnv {
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string = undefined;

  @Matches(/^[^\s]{1,64}$/, { message: 'REDIS_PREFIX must be 1-64 characters without spaces' })
  REDIS_PREFIX = '{aicg}';

  @IsOptional()
  @Matches(/^\s*[^\s:,]+:\d{1,5}\s*(,\s*[^\s:,]+:\d{1,5}\s*)*$/, { message: 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port' })
  REDIS_CLUSTER_NODES?: string = undefined;
}

export interface RedisNode {
  host: string;
  port: number;
}

/** Builds a URL from the old backend's REDIS_ENDPOINT/PORT/USER/PASSWORD when REDIS_URL is not set. */
function legacyRedisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const host = firstSet(env, 'REDIS_ENDPOINT');
  if (!host) return undefined;
  const port = firstSet(env, 'REDIS_PORT') ?? '6379';
  if (!/^\d{1,5}$/.test(port)) throw new ConfigValidationError(`Invalid configuration: REDIS_PORT must be a port number (got ${JSON.stringify(port)})`);
  const user = firstSet(env, 'REDIS_USER');
  const password = firstSet(env, 'REDIS_PASSWORD');
  const auth = password ? `${encodeURIComponent(user ?? '')}:${encodeURIComponent(password)}@` : '';
  return `redis://${auth}${host}:${port}`;
}

function clusterNodes(list: string | undefined): RedisNode[] | undefined {
  if (!list) return undefined;
  return list.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    return { host, port: Number(port) };
  });
}

export const redisConfig = registerAs('redis', () => {
  const env = validateEnv(RedisEnv);
  const prefix = env.REDIS_PREFIX;
  const nodes = clusterNodes(env.REDIS_CLUSTER_NODES);
  if (nodes && !/\{[^{}]+\}/.test(prefix)) {
    throw new ConfigValidationError(`Invalid configuration: REDIS_PREFIX must hold a {hash tag} on a Redis Cluster, so each queue's keys share a slot (got ${JSON.stringify(prefix)})`);
  }
  return {
    /** The server, or on a cluster where its user, password and TLS come from. */
    url: env.REDIS_URL ?? legacyRedisUrl(process.env) ?? 'redis://127.0.0.1:6379',
    /** Seed nodes of a Redis Cluster; unset for a single Redis. */
    clusterNodes: nodes,
    /** Key prefix for every key the product writes; a {hash tag} keeps BullMQ's keys in one Redis Cluster slot. */
    prefix,
  };
});
export type RedisConfig = ReturnType<typeof redisConfig>;
