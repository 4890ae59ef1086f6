import { Injectable } from '@nestjs/common';
import { FINISHED_STATUSES, TokenUsage } from '@app/common';
import { MetricsService } from '@app/metrics';
import { PubSubService } from '@app/pubsub';
import { WebhookEventsService } from '@app/webhooks';
import { BatchProgress } from './batch/batch-progress.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobRecord, JobRepository } from './job.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { JobOutcome } from './job.types';
import { UsageRecorder } from './usage/usage-recorder.service';

/** Each run of a job (the first, then one per admin retry) announces its end once; the first run's keys are unchanged. */
export function onceKey(job: Pick<JobRecord, 'jobId' | 'retries'>, name: string): string {
  return job.retries ? `${job.jobId}:r${job.retries}:${name}` : `${job.jobId}:${name}`;
}

/**
 * Brings a decided outcome home: the record, the user's slot, the announcement, then the ledger's
 * "done". Every step is idempotent, so a redelivery, BullMQ's failure hook and the reconciler may all
 * run it for one job (after a crash or an outage in between) and the user still hears of it once.
 */
@Injectable()
export class JobFinisher {
  constructor(
    private readonly jobs: JobRepository,
    private readonly ledger: JobLedgerRepository,
    private readonly slots: JobSlotsRepository,
    private readonly events: PubSubService,
    private readonly metrics: MetricsService,
    private readonly batches: BatchProgress,
    private readonly webhooks: WebhookEventsService,
    private readonly usage: UsageRecorder,
  ) {}

  /** Returns the finished record; undefined when the record is gone (nothing left to tell anyone). */
  async finish(jobId: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    const stored = await this.store(jobId, outcome);
    // Undefined: an earlier finisher stored it (the conditional update found nothing to change), or it is gone.
    if (stored) this.countFinished(stored);
    const job = stored ?? (await this.jobs.findByJobId(jobId));
    if (job) {
      if (!FINISHED_STATUSES.includes(job.status)) throw new Error(`Job ${jobId} is still ${job.status} after storing its outcome`);
      await this.slots.release(job.userId, jobId);
      await this.announce(job);
      // Queued (not delivered) here; a retried finish queues it again and the stable id drops the repeat.
      await this.emitWebhook(job);
      // A batch job's end counts into its batch once; its last one decides batch_completed.
      await this.batches.jobEnded(job);
      // Its usage record and its tokens in the owner's day, once (GET /usage, USER_DAILY_TOKEN_BUDGET).
      await this.usage.recordFinished(job);
    }
    await this.ledger.markDone(jobId);
    return job;
  }

  /** A cancelled job's usage learnt after its cancel was brought home (the calls the worker finished before it). */
  async recordCancelledUsage(jobId: string, usage: TokenUsage): Promise<void> {
    const job = await this.jobs.findByJobId(jobId);
    if (job?.status === 'cancelled') await this.usage.recordFinished({ ...job, usage });
  }

  private store(jobId: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    switch (outcome.status) {
      case 'completed':
        return this.jobs.markCompleted(jobId, outcome.result, outcome.attempts);
      case 'failed':
        return this.jobs.markFailed(jobId, outcome.error, outcome.attempts);
      case 'cancelled':
        return this.jobs.markCancelled(jobId, outcome.attempts, outcome.usage);
    }
  }

  /** Counted by the finisher whose update stored the outcome, so once per job. */
  private countFinished(job: JobRecord): void {
    const durationMs = job.completedAt && job.createdAt ? job.completedAt.getTime() - job.createdAt.getTime() : undefined;
    this.metrics.jobFinished({ status: job.status as 'completed' | 'failed' | 'cancelled', contentType: job.contentType, durationMs });
  }

  /** job.completed / job.failed / job.cancelled to the owner's webhooks, with the job as the API shows it. */
  private async emitWebhook(job: JobRecord): Promise<void> {
    const { correlationId: _correlationId, ...view } = job;
    const type = `job.${job.status}` as 'job.completed' | 'job.failed' | 'job.cancelled';
    await this.webhooks.emit({ id: onceKey(job, 'webhook'), type, userId: job.userId, data: view, timestamp: job.completedAt ?? job.cancelledAt });
  }

  /** The terminal job_status and job_completed, each at most once per job whoever calls; a cancelled job gets job_status only (v1 clients know completed and failed). */
  private async announce(job: JobRecord): Promise<void> {
    await this.events.publish('job_status', job.userId, { jobId: job.jobId, status: job.status, attempt: job.attempts }, { correlationId: job.correlationId, once: onceKey(job, `status:${job.status}`) });
    if (job.status === 'cancelled') return;
    const status = job.status as 'completed' | 'failed';
    await this.events.publish(
      'job_completed',
      job.userId,
      {
        userId: job.userId,
        jobId: job.jobId,
        status,
        ...(status === 'completed' ? { generatedContent: job.generatedContent } : { error: job.error }),
        completedAt: (job.completedAt ?? new Date()).toISOString(),
      },
      { correlationId: job.correlationId, once: onceKey(job, 'job_completed') },
    );
  }
}
