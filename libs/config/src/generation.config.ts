import { registerAs } from '@nestjs/config';
import { IntVar, validateEnv } from './validate-env';

class GenerationEnv {
  @IntVar('JOB_DELAY_MS', 0) JOB_DELAY_MS = 60_000;
  @IntVar('WORKER_CONCURRENCY', 1, 1000) WORKER_CONCURRENCY = 5;
  /** 0 turns the global rate limit off. */
  @IntVar('RATE_LIMIT_MAX', 0) RATE_LIMIT_MAX = 10;
  @IntVar('RATE_LIMIT_DURATION_MS', 1) RATE_LIMIT_DURATION_MS = 60_000;
  @IntVar('JOB_ATTEMPTS', 1, 100) JOB_ATTEMPTS = 3;
  @IntVar('JOB_BACKOFF_MS', 0) JOB_BACKOFF_MS = 1000;
  @IntVar('MAX_ACTIVE_JOBS_PER_USER', 1) MAX_ACTIVE_JOBS_PER_USER = 20;
  @IntVar('MAX_PROMPT_LENGTH', 1, 100_000) MAX_PROMPT_LENGTH = 4000;
  /** Items one POST /generate-content/batch may hold. */
  @IntVar('MAX_BATCH_ITEMS', 1, 1000) MAX_BATCH_ITEMS = 100;
  /** Unfinished batch jobs per user: a cap of their own, beside MAX_ACTIVE_JOBS_PER_USER. */
  @IntVar('MAX_BATCH_JOBS_PER_USER', 1) MAX_BATCH_JOBS_PER_USER = 500;
  @IntVar('WORKER_LOCK_DURATION_MS', 500) WORKER_LOCK_DURATION_MS = 30_000;
  @IntVar('WORKER_STALLED_INTERVAL_MS', 500) WORKER_STALLED_INTERVAL_MS = 30_000;
  @IntVar('WORKER_SHUTDOWN_TIMEOUT_MS', 0) WORKER_SHUTDOWN_TIMEOUT_MS = 30_000;
  /** A job a worker stopped on (crash, freeze) this many times in a row fails, saying so. */
  @IntVar('WORKER_MAX_STALLED_COUNT', 0, 100) WORKER_MAX_STALLED_COUNT = 2;
  /** A job blocked this long by a MongoDB or Redis outage fails. */
  @IntVar('JOB_OUTAGE_MAX_MS', 1000) JOB_OUTAGE_MAX_MS = 3_600_000;
  /** Longest wait between two tries of a job blocked by an outage. */
  @IntVar('JOB_OUTAGE_BACKOFF_MAX_MS', 100) JOB_OUTAGE_BACKOFF_MAX_MS = 30_000;
  @IntVar('RECONCILE_INTERVAL_MS', 1000) RECONCILE_INTERVAL_MS = 60_000;
  /** The reconciler leaves alone what changed more recently than this. */
  @IntVar('RECONCILE_GRACE_MS', 100) RECONCILE_GRACE_MS = 120_000;
  /** Finished job records (and what Redis still holds of them) are deleted this long after they finished. */
  @IntVar('JOB_RETENTION_MS', 1000) JOB_RETENTION_MS = 30 * 24 * 3600_000;
  /** The retention cleanup runs this often, once across all workers. */
  @IntVar('CLEANUP_INTERVAL_MS', 1000) CLEANUP_INTERVAL_MS = 3600_000;
  /** Jobs a user may queue in any 60 s (a batch counts each item); 0 = off. */
  @IntVar('USER_JOBS_PER_MINUTE', 0) USER_JOBS_PER_MINUTE = 10;
  /** Jobs a user may queue in any 24 h; 0 = off. */
  @IntVar('USER_JOBS_PER_DAY', 0) USER_JOBS_PER_DAY = 500;
  /** Tokens a user's jobs may use per UTC day before new ones are refused; 0 = off. */
  @IntVar('USER_DAILY_TOKEN_BUDGET', 0) USER_DAILY_TOKEN_BUDGET = 0;
}

export const generationConfig = registerAs('generation', () => {
  const env = validateEnv(GenerationEnv);
  return {
    delayMs: env.JOB_DELAY_MS,
    concurrency: env.WORKER_CONCURRENCY,
    rateLimit: env.RATE_LIMIT_MAX > 0 ? { max: env.RATE_LIMIT_MAX, duration: env.RATE_LIMIT_DURATION_MS } : undefined,
    attempts: env.JOB_ATTEMPTS,
    backoffMs: env.JOB_BACKOFF_MS,
    maxActiveJobsPerUser: env.MAX_ACTIVE_JOBS_PER_USER,
    maxPromptLength: env.MAX_PROMPT_LENGTH,
    maxBatchItems: env.MAX_BATCH_ITEMS,
    maxBatchJobsPerUser: env.MAX_BATCH_JOBS_PER_USER,
    lockDurationMs: env.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    shutdownTimeoutMs: env.WORKER_SHUTDOWN_TIMEOUT_MS,
    maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
    outageMaxMs: env.JOB_OUTAGE_MAX_MS,
    outageBackoffMaxMs: env.JOB_OUTAGE_BACKOFF_MAX_MS,
    reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
    reconcileGraceMs: env.RECONCILE_GRACE_MS,
    retentionMs: env.JOB_RETENTION_MS,
    cleanupIntervalMs: env.CLEANUP_INTERVAL_MS,
    userJobsPerMinute: env.USER_JOBS_PER_MINUTE,
    userJobsPerDay: env.USER_JOBS_PER_DAY,
    userDailyTokenBudget: env.USER_DAILY_TOKEN_BUDGET,
  };
});
export type GenerationConfig = ReturnType<typeof generationConfig>;
