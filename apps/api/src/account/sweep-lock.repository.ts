import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** KEYS: the lock. ARGV: this holder's token. Deletes the lock only if this holder still has it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface LockCommands {
  accountSweepRelease(lock: string, token: string): Promise<number>;
}

/** The lock that lets one API instance at a time sweep unfinished account deletions (SET NX PX; released by its holder only). */
@Injectable()
export class SweepLockRepository {
  private readonly redis: RedisClient & LockCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly config: RedisConfig) {
    this.redis = defineScripts<LockCommands>(redis, { accountSweepRelease: { keys: 1, lua: RELEASE } });
  }

  /** A token to release it with, or undefined when another instance holds the lock. */
  async acquire(ttlMs: number): Promise<string | undefined> {
    const token = randomBytes(16).toString('base64url');
    return (await this.redis.set(this.key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : undefined;
  }

  async release(token: string): Promise<void> {
    await this.redis.accountSweepRelease(this.key, token);
  }

  get key(): string {
    return `${this.config.prefix}:account-deletion-sweep`;
  }
}
