import { RedisClient } from './redis.connection';

export interface RedisScript {
  /** How many of the arguments are keys (they come first). */
  keys: number;
  lua: string;
}

/**
 * Registers Lua scripts as commands of the connection and returns it typed with them. ioredis runs
 * them by SHA and loads them again by itself after a Redis restart.
 */
export function defineScripts<Commands>(redis: RedisClient, scripts: { [Name in keyof Commands]: RedisScript }): RedisClient & Commands {
  for (const [name, script] of Object.entries(scripts) as [string, RedisScript][]) {
    redis.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
  }
  return redis as RedisClient & Commands;
}
