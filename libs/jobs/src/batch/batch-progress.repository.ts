import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import type { BatchCounts } from '@app/pubsub';
import { jobKeys } from '../job-keys';
import { batchKeys } from './batch-keys';

/** A batch's progress lives this long after its last change (as long as a job's ledger). */
const PROGRESS_TTL_MS = 7 * 24 * 3600_000;
/** batch_progress at most twice a second per batch. */
export const BATCH_PROGRESS_INTERVAL_MS = 500;

const COUNTS = `
local function counts(kind, last)
  local c = redis.call('HMGET', KEYS[1], 'completed', 'failed', 'cancelled')
  return {kind, tonumber(c[1] or '0'), tonumber(c[2] or '0'), tonumber(c[3] or '0'), tonumber(redis.call('HGET', KEYS[1], 'total') or '0'), last or 0}
end
`;

/**
 * Counts a job's end into its batch, once per job (the ended set is the once-marker), and decides what to
 * announce: 2 = every job has ended (returned again to a repeated finisher, so an announcement cut short is
 * made; the event's once-key keeps it single), 1 = send batch_progress now, 3 = throttled (the caller sends it
 * at lastSentAt + interval), 0 = nothing. ARGV: jobId, status, now, interval, ttl.
 * Returns {kind, completed, failed, cancelled, total, lastSentAt}.
 */
const END = `${COUNTS}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0, 0, 0, 0} end
local first = redis.call('SADD', KEYS[2], ARGV[1]) == 1
if first then
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
if redis.call('SCARD', KEYS[2]) >= tonumber(redis.call('HGET', KEYS[1], 'total')) then
  redis.call('HSETNX', KEYS[1], 'completedAt', ARGV[3])
  redis.call('HDEL', KEYS[1], 'pending')
  return counts(2)
end
if not first then return {0, 0, 0, 0, 0, 0} end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSentAt') or '0')
if tonumber(ARGV[3]) - last >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'lastSentAt', ARGV[3])
  redis.call('HDEL', KEYS[1], 'pending')
  return counts(1)
end
redis.call('HSET', KEYS[1], 'pending', '1')
return counts(3, last)
`;

/** A throttled batch_progress that is due now: 1 = send, 3 = not yet (lastSentAt returned), 0 = nothing pending. ARGV: now, interval. */
const FLUSH = `${COUNTS}
if redis.call('HGET', KEYS[1], 'pending') ~= '1' or redis.call('HEXISTS', KEYS[1], 'completedAt') == 1 then return {0, 0, 0, 0, 0, 0} end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSentAt') or '0')
if tonumber(ARGV[1]) - last < tonumber(ARGV[2]) then return counts(3, last) end
redis.call('HSET', KEYS[1], 'lastSentAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'pending')
return counts(1)
`;

/** Starts a batch's progress: its total, owner and jobs in item order. ARGV: total, userId, ttl, jobId... */
const START = `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'userId', ARGV[2])
redis.call('RPUSH', KEYS[3], unpack(ARGV, 4))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 1
`;

type RawStep = [number, number, number, number, number, number];

interface ProgressCommands {
  batchProgressStart(progress: string, ended: string, jobs: string, total: number, userId: string, ttlMs: number, ...jobIds: string[]): Promise<number>;
  batchProgressEnd(progress: string, ended: string, jobId: string, status: string, now: number, intervalMs: number, ttlMs: number): Promise<RawStep>;
  batchProgressFlush(progress: string, now: number, intervalMs: number): Promise<RawStep>;
}

/** What the end of one job means for its batch. */
export type BatchStep =
  | { kind: 'none' }
  | { kind: 'progress'; ended: EndedCounts }
  | { kind: 'completed'; ended: EndedCounts }
  /** A batch_progress is owed at `dueAt`. */
  | { kind: 'throttled'; dueAt: number };

export interface EndedCounts {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
}

const KINDS = { 1: 'progress', 2: 'completed' } as const;

/**
 * A batch's progress in Redis, changed only by Lua scripts: each job's end is counted once whoever
 * repeats it (finisher, redelivery, reconciler), `completed` is decided when the last one ends, and
 * batch_progress is throttled per batch across all processes by one last-sent timestamp.
 */
@Injectable()
export class BatchProgressRepository {
  private readonly redis: RedisClient & ProgressCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly config: RedisConfig) {
    this.redis = defineScripts<ProgressCommands>(redis, {
      batchProgressStart: { keys: 3, lua: START },
      batchProgressEnd: { keys: 2, lua: END },
      batchProgressFlush: { keys: 1, lua: FLUSH },
    });
  }

  async start(batchId: string, userId: string, jobIds: string[]): Promise<void> {
    await this.redis.batchProgressStart(this.key(batchId), this.ended(batchId), this.jobs(batchId), jobIds.length, userId, PROGRESS_TTL_MS, ...jobIds);
  }

  /** Forgets a batch that was never queued. */
  async forget(batchId: string): Promise<void> {
    await this.redis.del(this.key(batchId), this.ended(batchId), this.jobs(batchId));
  }

  /** Counts the job's end (once per job) and says what to announce. */
  async countEnd(batchId: string, jobId: string, status: 'completed' | 'failed' | 'cancelled', now = Date.now()): Promise<BatchStep> {
    return toStep(await this.redis.batchProgressEnd(this.key(batchId), this.ended(batchId), jobId, status, now, BATCH_PROGRESS_INTERVAL_MS, PROGRESS_TTL_MS));
  }

  /** Sends a throttled batch_progress when it is due. */
  async flush(batchId: string, now = Date.now()): Promise<BatchStep> {
    return toStep(await this.redis.batchProgressFlush(this.key(batchId), now, BATCH_PROGRESS_INTERVAL_MS));
  }

  /**
   * All five counts: the ended ones as counted, `processing` = jobs handed to a worker (their ledger has a
   * delivery) without an outcome yet, `queued` the rest. Undefined when Redis no longer holds the batch.
   */
  async counts(batchId: string, ended?: EndedCounts): Promise<BatchCounts | undefined> {
    const hash = ended ? undefined : await this.redis.hmget(this.key(batchId), 'total', 'completed', 'failed', 'cancelled');
    if (hash && hash[0] === null) return undefined;
    const done = ended ?? { total: Number(hash![0]), completed: Number(hash![1] ?? 0), failed: Number(hash![2] ?? 0), cancelled: Number(hash![3] ?? 0) };
    const jobIds = await this.redis.lrange(this.jobs(batchId), 0, -1);
    const pipeline = this.redis.pipeline();
    for (const jobId of jobIds) pipeline.hmget(jobKeys.ledger(this.config.prefix, jobId), 'delivery', 'outcome');
    const ledgers = ((await pipeline.exec()) ?? []).map(([, fields]) => fields as (string | null)[]);
    const processing = ledgers.filter(([delivery, outcome]) => delivery !== null && outcome === null).length;
    const open = Math.max(0, done.total - done.completed - done.failed - done.cancelled);
    const running = Math.min(processing, open);
    return { queued: open - running, processing: running, completed: done.completed, failed: done.failed, cancelled: done.cancelled };
  }

  private key(batchId: string): string {
    return batchKeys.progress(this.config.prefix, batchId);
  }

  private ended(batchId: string): string {
    return batchKeys.ended(this.config.prefix, batchId);
  }

  private jobs(batchId: string): string {
    return batchKeys.jobs(this.config.prefix, batchId);
  }
}

function toStep([kind, completed, failed, cancelled, total, last]: RawStep): BatchStep {
  if (kind === 3) return { kind: 'throttled', dueAt: Number(last) + BATCH_PROGRESS_INTERVAL_MS };
  if (kind === 1 || kind === 2) return { kind: KINDS[kind], ended: { total: Number(total), completed: Number(completed), failed: Number(failed), cancelled: Number(cancelled) } };
  return { kind: 'none' };
}
