/**
 * The Redis keys of batches, under the configured prefix: its {hash tag} keeps them in one Redis Cluster
 * slot with the job slots and ledgers, so one Lua script may touch them together.
 */
export const batchKeys = {
  /** Sorted set: a user's unfinished batch jobIds, scored by when the slot was taken (MAX_BATCH_JOBS_PER_USER). */
  slots: (prefix: string, userId: string): string => `${prefix}:batch-slots:${userId}`,
  /** Hash: a batch's progress (total, completed, failed, cancelled, lastSentAt, pending, completedAt). */
  progress: (prefix: string, batchId: string): string => `${prefix}:batch:${batchId}`,
  /** Set: the batch's jobs already counted as ended, each once. */
  ended: (prefix: string, batchId: string): string => `${prefix}:batch:${batchId}:ended`,
  /** List: the batch's jobIds in item order. */
  jobs: (prefix: string, batchId: string): string => `${prefix}:batch:${batchId}:jobs`,
};
