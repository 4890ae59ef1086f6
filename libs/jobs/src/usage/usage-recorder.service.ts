import { Injectable } from '@nestjs/common';
import { UserJobLimits, utcDay } from '../limits/user-job-limits';
import { JobRecord } from '../job.repository';
import { NewUsageRecord, UsageRepository } from './usage.repository';

/** The usage record's id: the jobId, `<jobId>:r<n>` for an admin's n-th retry (each run is a job of its own here). */
export function usageRecordId(job: Pick<JobRecord, 'jobId' | 'retries'>): string {
  return job.retries ? `${job.jobId}:r${job.retries}` : job.jobId;
}

/** What a finished job run used, as its usage record holds it. */
export function usageRecordOf(job: JobRecord): NewUsageRecord {
  const finishedAt = job.completedAt ?? job.cancelledAt ?? new Date();
  return {
    recordId: usageRecordId(job),
    jobId: job.jobId,
    userId: job.userId,
    day: utcDay(finishedAt),
    model: job.model ?? job.options?.model ?? 'unknown',
    provider: job.provider ?? 'unknown',
    status: job.status,
    promptTokens: job.usage?.promptTokens ?? 0,
    completionTokens: job.usage?.completionTokens ?? 0,
    totalTokens: job.usage?.totalTokens ?? 0,
    cost: job.usage?.cost ?? 0,
    finishedAt,
  };
}

/**
 * Keeps what each finished job used, once whoever finishes it: a usage record (inserted by _id, so a
 * repeat inserts nothing) and its tokens in the owner's daily counter (a Lua script that remembers what
 * it counted per job), which USER_DAILY_TOKEN_BUDGET is checked against.
 */
@Injectable()
export class UsageRecorder {
  constructor(
    private readonly records: UsageRepository,
    private readonly limits: UserJobLimits,
  ) {}

  /**
   * Called with a record that holds its outcome (completed, failed or cancelled). A cancelled job's usage
   * may come later (the worker's finished calls): called again with it, it updates the record and counts
   * only the difference.
   */
  async recordFinished(job: JobRecord): Promise<void> {
    const record = usageRecordOf(job);
    const inserted = await this.records.insert(record);
    if (!inserted && job.status === 'cancelled' && job.usage) {
      const { promptTokens, completionTokens, totalTokens, cost } = record;
      await this.records.setUsage(record.recordId, { promptTokens, completionTokens, totalTokens, cost });
    }
    // Also after a repeated insert: a finish that crashed between the two still counts, once.
    await this.limits.countTokens(job.userId, record.recordId, record.day, record.totalTokens);
  }
}
