import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { jobKeys } from './job-keys';

/**
 * Takes a slot for the job unless the user is at the cap; taking it twice is a no-op. Returns the job's
 * place among the user's unfinished jobs (1 = none ahead of it), 0 at the cap. ARGV: jobId, cap, now, userId.
 */
const ACQUIRE = `
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank then return rank + 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return redis.call('ZCARD', KEYS[1])
`;

/** Frees the job's slot; a second release of the same job changes nothing. ARGV: jobId, userId. */
const RELEASE = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return removed
`;

/**
 * Gives an unfinished job its missing slot back, unless the job is finishing or finished by now (its
 * ledger keeps an outcome): the caller's view of "unfinished" may be a moment old. ARGV: jobId, takenAt, userId.
 */
const RESTORE = `
if redis.call('HEXISTS', KEYS[3], 'outcome') == 1 or redis.call('HEXISTS', KEYS[3], 'done') == 1 then return 0 end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

interface SlotCommands {
  jobSlotsAcquire(key: string, users: string, jobId: string, cap: number, now: number, userId: string): Promise<number>;
  jobSlotsRelease(key: string, users: string, jobId: string, userId: string): Promise<number>;
  jobSlotsRestore(key: string, users: string, ledger: string, jobId: string, takenAt: number, userId: string): Promise<number>;
}

export interface Slot {
  jobId: string;
  /** When it was taken (ms). */
  takenAt: number;
}

/**
 * Per-user unfinished-job slots: a sorted set of jobIds per user, changed only by Lua scripts, so the cap
 * holds under any concurrency and each job frees its slot at most once. A slot names its job, so a
 * leaked one can be found and freed by comparing with the job records.
 */
@Injectable()
export class JobSlotsRepository {
  private readonly redis: RedisClient & SlotCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<SlotCommands>(redis, {
      jobSlotsAcquire: { keys: 2, lua: ACQUIRE },
      jobSlotsRelease: { keys: 2, lua: RELEASE },
      jobSlotsRestore: { keys: 3, lua: RESTORE },
    });
  }

  /**
   * The job's place among the user's unfinished jobs once it holds a slot (now or already): 1 when none is
   * ahead of it. 0 at the cap.
   */
  async acquire(userId: string, jobId: string, cap: number, takenAt = Date.now()): Promise<number> {
    return this.redis.jobSlotsAcquire(this.key(userId), this.users, jobId, cap, takenAt, userId);
  }

  async release(userId: string, jobId: string): Promise<void> {
    await this.redis.jobSlotsRelease(this.key(userId), this.users, jobId, userId);
  }

  /** For the reconciler: true when the job got its slot back (over the cap if need be: it is a real unfinished job). */
  async restore(userId: string, jobId: string, takenAt: number): Promise<boolean> {
    const ledger = jobKeys.ledger(this.redisOptions.prefix, jobId);
    return (await this.redis.jobSlotsRestore(this.key(userId), this.users, ledger, jobId, takenAt, userId)) === 1;
  }

  async slots(userId: string): Promise<Slot[]> {
    const flat = await this.redis.zrange(this.key(userId), 0, -1, 'WITHSCORES');
    const slots: Slot[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) slots.push({ jobId: flat[i], takenAt: Number(flat[i + 1]) });
    return slots;
  }

  /** Every user that holds a slot (read in pages, so a large set does not block Redis). */
  async usersWithSlots(): Promise<string[]> {
    const users = new Set<string>();
    let cursor = '0';
    do {
      const [next, page] = await this.redis.sscan(this.users, cursor, 'COUNT', 500);
      page.forEach((user) => users.add(user));
      cursor = next;
    } while (cursor !== '0');
    return [...users];
  }

  private key(userId: string): string {
    return jobKeys.slots(this.redisOptions.prefix, userId);
  }

  private get users(): string {
    return jobKeys.slotUsers(this.redisOptions.prefix);
  }
}
