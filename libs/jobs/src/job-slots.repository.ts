import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { batchKeys } from './batch/batch-keys';
import { jobKeys } from './job-keys';

/**
 * Takes a slot for the job unless the user is at the cap (KEYS[1]; batch slots, KEYS[3], have their own);
 * taking it twice is a no-op. Returns the job's place among the user's unfinished jobs, normal and batch
 * (1 = none ahead of it), as batch jobs count theirs; 0 at the cap. ARGV: jobId, cap, now, userId.
 */
const ACQUIRE = `
local batch = redis.call('ZCARD', KEYS[3])
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank then return batch + rank + 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return batch + redis.call('ZCARD', KEYS[1])
`;

/**
 * Takes batch slots (KEYS[1], under their own cap) for all of a batch's jobs or for none. Returns each
 * job's place among the user's unfinished jobs, normal (KEYS[3]) and batch ones, or 0 at the cap.
 * ARGV: cap, now, userId, jobId...
 */
const ACQUIRE_BATCH = `
local fresh = 0
for i = 4, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then fresh = fresh + 1 end
end
local held = redis.call('ZCARD', KEYS[1])
if held + fresh > tonumber(ARGV[1]) then return 0 end
local ahead = redis.call('ZCARD', KEYS[3]) + held
local places = {}
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[i])
  places[#places + 1] = ahead + i - 3
end
redis.call('SADD', KEYS[2], ARGV[3])
return places
`;

/** Frees the job's slot, normal or batch; a second release of the same job changes nothing. ARGV: jobId, userId. */
const RELEASE = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[3]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return removed
`;

/**
 * Gives an unfinished job its missing slot back in its own set (KEYS[1]: normal, or batch for a batch job),
 * unless it holds one in the other set (KEYS[4]) or is finishing or finished by now (its ledger keeps an
 * outcome): the caller's view of "unfinished" may be a moment old. ARGV: jobId, takenAt, userId.
 */
const RESTORE = `
if redis.call('HEXISTS', KEYS[3], 'outcome') == 1 or redis.call('HEXISTS', KEYS[3], 'done') == 1 then return 0 end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

interface SlotCommands {
  jobSlotsAcquire(key: string, users: string, batch: string, jobId: string, cap: number, now: number, userId: string): Promise<number>;
  jobSlotsAcquireBatch(key: string, users: string, normal: string, cap: number, now: number, userId: string, ...jobIds: string[]): Promise<number | number[]>;
  jobSlotsRelease(key: string, users: string, batch: string, jobId: string, userId: string): Promise<number>;
  jobSlotsRestore(key: string, users: string, ledger: string, other: string, jobId: string, takenAt: number, userId: string): Promise<number>;
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
      jobSlotsAcquire: { keys: 3, lua: ACQUIRE },
      jobSlotsAcquireBatch: { keys: 3, lua: ACQUIRE_BATCH },
      jobSlotsRelease: { keys: 3, lua: RELEASE },
      jobSlotsRestore: { keys: 4, lua: RESTORE },
    });
  }

  /**
   * The job's place among the user's unfinished jobs once it holds a slot (now or already): 1 when none is
   * ahead of it. 0 at the cap.
   */
  async acquire(userId: string, jobId: string, cap: number, takenAt = Date.now()): Promise<number> {
    return this.redis.jobSlotsAcquire(this.key(userId), this.users, this.batchKey(userId), jobId, cap, takenAt, userId);
  }

  /**
   * Batch slots (MAX_BATCH_JOBS_PER_USER, apart from the normal cap) for every job of a batch, or none:
   * each job's place among the user's unfinished jobs, normal and batch (its queue priority); undefined at the cap.
   */
  async acquireBatch(userId: string, jobIds: string[], cap: number, takenAt = Date.now()): Promise<number[] | undefined> {
    const places = await this.redis.jobSlotsAcquireBatch(this.batchKey(userId), this.users, this.key(userId), cap, takenAt, userId, ...jobIds);
    return Array.isArray(places) ? places : undefined;
  }

  /** Frees the job's slot, normal or batch. */
  async release(userId: string, jobId: string): Promise<void> {
    await this.redis.jobSlotsRelease(this.key(userId), this.users, this.batchKey(userId), jobId, userId);
  }

  /** For the reconciler: true when the job got its slot back (over the cap if need be: it is a real unfinished job). */
  async restore(userId: string, jobId: string, takenAt: number, inBatch = false): Promise<boolean> {
    const ledger = jobKeys.ledger(this.redisOptions.prefix, jobId);
    const [own, other] = inBatch ? [this.batchKey(userId), this.key(userId)] : [this.key(userId), this.batchKey(userId)];
    return (await this.redis.jobSlotsRestore(own, this.users, ledger, other, jobId, takenAt, userId)) === 1;
  }

  /** Every slot the user holds, normal and batch. */
  async slots(userId: string): Promise<Slot[]> {
    return [...(await this.normalSlots(userId)), ...toSlots(await this.redis.zrange(this.batchKey(userId), 0, -1, 'WITHSCORES'))];
  }

  /** The user's slots under MAX_ACTIVE_JOBS_PER_USER only (batch jobs hold their own). */
  async normalSlots(userId: string): Promise<Slot[]> {
    return toSlots(await this.redis.zrange(this.key(userId), 0, -1, 'WITHSCORES'));
  }

  /** Drops the user's slots, normal and batch, and the user from the set of slot holders (an account's deletion, after its jobs went). */
  async forgetUser(userId: string): Promise<void> {
    await this.redis.del(this.key(userId), this.batchKey(userId));
    await this.redis.srem(this.users, userId);
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

  private batchKey(userId: string): string {
    return batchKeys.slots(this.redisOptions.prefix, userId);
  }

  private get users(): string {
    return jobKeys.slotUsers(this.redisOptions.prefix);
  }
}

/** ZRANGE ... WITHSCORES as slots. */
function toSlots(flat: string[]): Slot[] {
  const slots: Slot[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) slots.push({ jobId: flat[i], takenAt: Number(flat[i + 1]) });
  return slots;
}
