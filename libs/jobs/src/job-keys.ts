import { userKeyPrefix } from '@app/common';

/**
 * Every Redis key of the job lifecycle, under the configured prefix. The prefix's {hash tag} keeps the
 * ledger and slots in one Redis Cluster slot beside the queue, so one Lua script may touch several of
 * them; an idempotency claim is touched alone and spreads with its user (see redis-keys.ts).
 */
export const jobKeys = {
  /** Hash: a job's exclusive state (deliveries, attempts, the kept outcome). */
  ledger: (prefix: string, jobId: string): string => `${prefix}:job:${jobId}`,
  /** Sorted set: jobIds whose outcome is kept but not yet stored and announced, scored by when it was kept. */
  settling: (prefix: string): string => `${prefix}:jobs-settling`,
  /** Sorted set: a user's unfinished jobIds, scored by when the slot was taken. */
  slots: (prefix: string, userId: string): string => `${prefix}:slots:${userId}`,
  /** Set: users that hold slots, so the reconciler can visit them. */
  slotUsers: (prefix: string): string => `${prefix}:slot-users`,
  /** String: `<jobId> <fingerprint>` of the request that claimed an Idempotency-Key. */
  idempotency: (prefix: string, userId: string, key: string): string => `${userKeyPrefix(prefix, userId)}:idempotency:${key}`,
};
