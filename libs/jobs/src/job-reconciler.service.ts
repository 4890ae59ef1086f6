import { Inject, Injectable, Logger } from '@nestjs/common';
import { generationConfig, GenerationConfig } from '@app/config';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobQueue } from './job.queue';
import { JobRepository, UnfinishedJob } from './job.repository';
import { JobSlotsRepository } from './job-slots.repository';

/** BullMQ states in which the job will still be delivered: nothing to repair. */
const PENDING_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
/** Records looked at per run; with retention in place there are far fewer unfinished ones. */
const MAX_UNFINISHED = 10_000;

export interface ReconcileReport {
  /** Kept outcomes stored and announced. */
  finished: number;
  /** Records failed because BullMQ gave their job up. */
  failed: number;
  /** Jobs queued again because BullMQ had lost them. */
  requeued: number;
  slotsFreed: number;
  slotsRestored: number;
}

/**
 * The safety net behind the worker: once a minute (one run across all workers) it brings home outcomes
 * an outage left unstored, finishes records whose BullMQ job is gone or failed, and makes every user's
 * slots equal their unfinished jobs, so no job stays unfinished forever and drift never locks a user out.
 */
@Injectable()
export class JobReconciler {
  private readonly logger = new Logger(JobReconciler.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly ledger: JobLedgerRepository,
    private readonly slots: JobSlotsRepository,
    private readonly queue: JobQueue,
    private readonly finisher: JobFinisher,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  async run(now = Date.now()): Promise<ReconcileReport> {
    const report: ReconcileReport = { finished: 0, failed: 0, requeued: 0, slotsFreed: 0, slotsRestored: 0 };
    const settledBefore = now - this.config.reconcileGraceMs;
    await this.finishKeptOutcomes(settledBefore, report);
    const unfinished = await this.jobs.listUnfinished(MAX_UNFINISHED);
    for (const job of unfinished.jobs) {
      if (job.updatedAt.getTime() < settledBefore) await this.repair(job, report);
    }
    // A partial list could make live slots look leaked.
    if (unfinished.complete) await this.reconcileSlots(unfinished.jobs, settledBefore, report);
    if (Object.values(report).some((count) => count > 0)) this.logger.warn({ msg: 'reconciled jobs', ...report });
    return report;
  }

  /** Outcomes kept in Redis whose record or announcement did not land (the database was down, say, or a cancel request stopped half-way). */
  private async finishKeptOutcomes(before: number, report: ReconcileReport): Promise<void> {
    for (const jobId of await this.ledger.settlingBefore(before, 1000)) {
      const { outcome } = await this.ledger.read(jobId);
      if (outcome) await this.finisher.finish(jobId, outcome);
      else await this.ledger.markDone(jobId);
      report.finished++;
    }
  }

  /** An unfinished record untouched for a while: fine while BullMQ still holds its job, repaired otherwise. */
  private async repair(job: UnfinishedJob, report: ReconcileReport): Promise<void> {
    const kept = await this.ledger.read(job.jobId);
    if (kept.outcome) {
      await this.finisher.finish(job.jobId, kept.outcome);
      report.finished++;
      return;
    }
    const state = await this.queue.stateOf(job.jobId);
    if (PENDING_STATES.has(state)) return;
    if (state === 'failed') {
      const failure = await this.queue.failure(job.jobId);
      const error = describeQueueFailure(failure?.reason ?? '', failure?.stalled ?? 0);
      this.logger.warn({ msg: 'failing a job the queue gave up', jobId: job.jobId, correlationId: job.correlationId, reason: failure?.reason });
      const outcome = await this.ledger.settle(job.jobId, { status: 'failed', error, attempts: kept.attempts });
      if (outcome) await this.finisher.finish(job.jobId, outcome);
      report.failed++;
      return;
    }
    // Completed without an outcome, or gone (Redis lost it): run it again.
    this.logger.warn({ msg: 'queueing a lost job again', jobId: job.jobId, correlationId: job.correlationId, queueState: state });
    await this.queue.requeue({ jobId: job.jobId, userId: job.userId, correlationId: job.correlationId });
    report.requeued++;
  }

  private async reconcileSlots(unfinished: UnfinishedJob[], takenBefore: number, report: ReconcileReport): Promise<void> {
    const byUser = new Map<string, Map<string, UnfinishedJob>>();
    for (const job of unfinished) {
      if (!byUser.has(job.userId)) byUser.set(job.userId, new Map());
      byUser.get(job.userId)!.set(job.jobId, job);
    }
    const users = new Set([...(await this.slots.usersWithSlots()), ...byUser.keys()]);
    for (const userId of users) {
      const open = byUser.get(userId) ?? new Map<string, UnfinishedJob>();
      const slots = await this.slots.slots(userId);
      for (const slot of slots) {
        // A young slot may belong to a record being written right now.
        if (!open.has(slot.jobId) && slot.takenAt < takenBefore) {
          await this.slots.release(userId, slot.jobId);
          report.slotsFreed++;
        }
      }
      const held = new Set(slots.map((slot) => slot.jobId));
      for (const job of open.values()) {
        if (held.has(job.jobId)) continue;
        if (await this.slots.restore(userId, job.jobId, job.createdAt.getTime(), job.batchId !== undefined)) report.slotsRestored++;
      }
    }
  }
}

/** The record's error for a job BullMQ failed by itself; a stall means workers died or froze on it. */
export function describeQueueFailure(reason: string, stalled: number): string {
  if (/stalled/i.test(reason)) {
    return `Generation was interrupted: the workers running this job stopped ${stalled > 0 ? `${stalled} times` : 'repeatedly'} (crashed or froze)`;
  }
  return reason ? `The job queue gave this job up: ${reason.slice(0, 150)}` : 'The job queue gave this job up';
}
