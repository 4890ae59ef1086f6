import { registerAs } from '@nestjs/config';
import { IsOptional, Matches } from 'class-validator';
import { ConfigValidationError, firstSet, validateEnv } from './validate-env';

class RedisEnv {
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string = undefined;

  @Matches(/^[^\s]{1,64}$/, { message: 'REDIS_PREFIX must be 1-64 characters without spaces' })
  REDIS_PREFIX = '{aicg}';
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

export const redisConfig = registerAs('redis', () => {
  const env = validateEnv(RedisEnv);
  const prefix = env.REDIS_PREFIX;
  return {
    url: env.REDIS_URL ?? legacyRedisUrl(process.env) ?? 'redis://127.0.0.1:6379',
    /** Key prefix for every key the product writes; a {hash tag} keeps BullMQ's keys in one Redis Cluster slot. */
    prefix,
  };
});
export type RedisConfig = ReturnType<typeof redisConfig>;
