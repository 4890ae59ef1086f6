import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { jobKeys } from './job-keys';
import { JobOutcome } from './job.types';

/** A job's state lives this long after its last change: past any redelivery BullMQ could still make. */
const LEDGER_TTL_MS = 7 * 24 * 3600_000;
/** After the outcome is stored and announced it is kept a while, so a late finisher can repeat the steps idempotently. */
const DONE_TTL_MS = 3600_000;

/** Starts a delivery unless the job is done: the delivery number fences every later step of it. */
const BEGIN = `
local done = redis.call('HGET', KEYS[1], 'done')
local delivery = 0
if not done then
  delivery = redis.call('HINCRBY', KEYS[1], 'delivery', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local fields = redis.call('HMGET', KEYS[1], 'attempts', 'failures', 'pauses', 'outcome', 'blockedSince')
return {delivery, done or '', fields[1], fields[2], fields[3], fields[4], fields[5]}
`;

/** Counts a provider call about to start; 0 when the delivery is stale or an outcome is already kept. */
const START_ATTEMPT = `
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return 0 end
redis.call('HDEL', KEYS[1], 'blockedSince')
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
`;

/** Counts a failed (or paused) provider verdict of the current delivery; -1 when stale. */
const COUNT_VERDICT = `
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return -1 end
return redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
`;

/**
 * Keeps the job's outcome, once: returns the outcome that holds (an earlier one wins), or nil when the
 * caller's delivery is stale. ARGV: delivery ('' = not fenced), outcome JSON, now, ttl, jobId.
 */
const SETTLE = `
local kept = redis.call('HGET', KEYS[1], 'outcome')
if kept then return kept end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return false end
redis.call('HSET', KEYS[1], 'outcome', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
return ARGV[2]
`;

/**
 * The user's cancel: keeps `cancelled` as the outcome with the provider calls started so far, unless an
 * outcome is kept already (that one holds and is returned). Not fenced: no delivery owns a cancel.
 * ARGV: now, ttl, jobId.
 */
const CANCEL = `
local kept = redis.call('HGET', KEYS[1], 'outcome')
if kept then return kept end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
local outcome = cjson.encode({status = 'cancelled', attempts = attempts})
redis.call('HSET', KEYS[1], 'outcome', outcome)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
return outcome
`;

/** The start of the dependency outage that blocks the job (set by its first deferral). */
const BLOCKED = `
redis.call('HSETNX', KEYS[1], 'blockedSince', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('HGET', KEYS[1], 'blockedSince')
`;

const DONE = `
redis.call('HSET', KEYS[1], 'done', '1')
redis.call('HDEL', KEYS[1], 'blockedSince')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/**
 * Opens a failed job for an admin's retry: only a job that is done (or whose ledger expired) is opened,
 * so two racing retries cannot both win. Its outcome and verdict counts go, `delivery` and `attempts`
 * stay (a delivery number is never reused, attempts keep counting). ARGV: ttl, jobId.
 */
const REOPEN = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HGET', KEYS[1], 'done') ~= '1' then return 0 end
redis.call('HDEL', KEYS[1], 'done', 'outcome', 'failures', 'pauses', 'blockedSince')
redis.call('HINCRBY', KEYS[1], 'reopened', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`;

interface LedgerCommands {
  jobLedgerBegin(key: string, ttlMs: number): Promise<[number, string, ...(string | null)[]]>;
  jobLedgerStartAttempt(key: string, delivery: number): Promise<number>;
  jobLedgerCountVerdict(key: string, delivery: number, field: string): Promise<number>;
  jobLedgerSettle(key: string, settling: string, delivery: string, outcome: string, now: number, ttlMs: number, jobId: string): Promise<string | null>;
  jobLedgerCancel(key: string, settling: string, now: number, ttlMs: number, jobId: string): Promise<string>;
  jobLedgerBlocked(key: string, now: number, ttlMs: number): Promise<string>;
  jobLedgerDone(key: string, settling: string, jobId: string, ttlMs: number): Promise<number>;
  jobLedgerReopen(key: string, settling: string, ttlMs: number, jobId: string): Promise<number>;
}

/** What one delivery learns when it starts. */
export interface Delivery {
  /** Grows with every delivery of the job; 0 when the job is already done. */
  delivery: number;
  done: boolean;
  /** Provider calls started so far. */
  attempts: number;
  /** Failed provider verdicts so far (what JOB_ATTEMPTS bounds). */
  failures: number;
  /** Retry-After pauses so far. */
  pauses: number;
  /** The kept outcome, when one is decided but maybe not yet stored. */
  outcome?: JobOutcome;
  /** When the outage that blocks this job began (ms). */
  blockedSince?: number;
}

/**
 * A job's exclusive state in Redis. Lua makes each step atomic on every Redis, whatever the database
 * does: FerretDB lets several racers win one conditional update, so MongoDB's conditional updates are
 * only the second guard. One delivery (one BullMQ hand-out) owns the job until the next one begins.
 */
@Injectable()
export class JobLedgerRepository {
  private readonly redis: RedisClient & LedgerCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<LedgerCommands>(redis, {
      jobLedgerBegin: { keys: 1, lua: BEGIN },
      jobLedgerStartAttempt: { keys: 1, lua: START_ATTEMPT },
      jobLedgerCountVerdict: { keys: 1, lua: COUNT_VERDICT },
      jobLedgerSettle: { keys: 2, lua: SETTLE },
      jobLedgerCancel: { keys: 2, lua: CANCEL },
      jobLedgerBlocked: { keys: 1, lua: BLOCKED },
      jobLedgerDone: { keys: 2, lua: DONE },
      jobLedgerReopen: { keys: 2, lua: REOPEN },
    });
  }

  async begin(jobId: string): Promise<Delivery> {
    const [delivery, done, attempts, failures, pauses, outcome, blockedSince] = await this.redis.jobLedgerBegin(this.key(jobId), LEDGER_TTL_MS);
    return {
      delivery: Number(delivery),
      done: done === '1',
      attempts: Number(attempts ?? 0),
      failures: Number(failures ?? 0),
      pauses: Number(pauses ?? 0),
      outcome: outcome ? (JSON.parse(outcome) as JobOutcome) : undefined,
      blockedSince: blockedSince ? Number(blockedSince) : undefined,
    };
  }

  /** The attempt number of the provider call `delivery` is about to make; undefined when it no longer owns the job. */
  async startAttempt(jobId: string, delivery: number): Promise<number | undefined> {
    const attempt = await this.redis.jobLedgerStartAttempt(this.key(jobId), delivery);
    return attempt > 0 ? attempt : undefined;
  }

  /** Counts a failed provider verdict (`failures`) or a Retry-After wait (`pauses`); undefined when stale. */
  async countVerdict(jobId: string, delivery: number, kind: 'failures' | 'pauses'): Promise<number | undefined> {
    const count = await this.redis.jobLedgerCountVerdict(this.key(jobId), delivery, kind);
    return count >= 0 ? count : undefined;
  }

  /**
   * Decides the job's outcome once. Returns the outcome that holds (an earlier one wins), or undefined
   * when `delivery` no longer owns the job. Without a delivery (BullMQ gave the job up, the reconciler)
   * only the "first one wins" rule applies.
   */
  async settle(jobId: string, outcome: JobOutcome, delivery?: number): Promise<JobOutcome | undefined> {
    const kept = await this.redis.jobLedgerSettle(
      this.key(jobId),
      jobKeys.settling(this.prefix),
      delivery === undefined ? '' : String(delivery),
      JSON.stringify(outcome),
      Date.now(),
      LEDGER_TTL_MS,
      jobId,
    );
    return kept ? (JSON.parse(kept) as JobOutcome) : undefined;
  }

  /**
   * The user's cancel as the job's outcome, with the provider calls started until now (read in the same
   * script, so none is missed). Returns the outcome that holds: `cancelled`, or the one decided earlier.
   */
  async settleCancelled(jobId: string): Promise<JobOutcome> {
    const kept = await this.redis.jobLedgerCancel(this.key(jobId), jobKeys.settling(this.prefix), Date.now(), LEDGER_TTL_MS, jobId);
    return JSON.parse(kept) as JobOutcome;
  }

  /** Notes that an outage blocks the job and returns when that began. */
  async blockedSince(jobId: string): Promise<number> {
    return Number(await this.redis.jobLedgerBlocked(this.key(jobId), Date.now(), LEDGER_TTL_MS));
  }

  /** The outcome is stored, the slot released and the user told. */
  async markDone(jobId: string): Promise<void> {
    await this.redis.jobLedgerDone(this.key(jobId), jobKeys.settling(this.prefix), jobId, DONE_TTL_MS);
  }

  /** A fresh ledger for a retried job, so the worker runs it again; false while it is not done (unfinished, or retried already). */
  async reopen(jobId: string): Promise<boolean> {
    return (await this.redis.jobLedgerReopen(this.key(jobId), jobKeys.settling(this.prefix), LEDGER_TTL_MS, jobId)) === 1;
  }

  /** Jobs whose outcome was kept before `before` (ms) and is still not stored or announced. */
  async settlingBefore(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(jobKeys.settling(this.prefix), '-inf', before, 'LIMIT', 0, limit);
  }

  /** The job's state without starting a delivery. */
  async read(jobId: string): Promise<Pick<Delivery, 'done' | 'outcome' | 'attempts'>> {
    const [done, outcome, attempts] = await this.redis.hmget(this.key(jobId), 'done', 'outcome', 'attempts');
    return { done: done === '1', outcome: outcome ? (JSON.parse(outcome) as JobOutcome) : undefined, attempts: Number(attempts ?? 0) };
  }

  /** Drops what the ledger still holds of these jobs (their records are deleted); returns how many ledgers there were. */
  async forget(jobIds: string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    // One slot on a cluster: every ledger key and the settling set share the prefix's hash tag.
    const deleted = await this.redis.del(...jobIds.map((jobId) => this.key(jobId)));
    await this.redis.zrem(jobKeys.settling(this.prefix), ...jobIds);
    return deleted;
  }

  private key(jobId: string): string {
    return jobKeys.ledger(this.prefix, jobId);
  }

  private get prefix(): string {
    return this.redisOptions.prefix;
  }
}
