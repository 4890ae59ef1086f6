import Redis from 'ioredis';
import { Env } from './test-env';

/** Reads the lifecycle's Redis state of a test stack (its REDIS_URL and REDIS_PREFIX). */
export class JobStateProbe {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(env: Env) {
    this.redis = new Redis(env.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    this.prefix = env.REDIS_PREFIX;
  }

  /** The user's taken unfinished-job slots. */
  slotCount(userId: string): Promise<number> {
    return this.redis.zcard(`${this.prefix}:slots:${userId}`);
  }

  /** Takes a slot the way a crashed request would leave it: for a job that has no record. */
  async leakSlot(userId: string, jobId: string, takenAt: number): Promise<void> {
    await this.redis.zadd(`${this.prefix}:slots:${userId}`, takenAt, jobId);
    await this.redis.sadd(`${this.prefix}:slot-users`, userId);
  }

  close(): void {
    this.redis.disconnect();
  }
}
