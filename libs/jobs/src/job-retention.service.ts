import { Inject, Injectable, Logger } from '@nestjs/common';
import { generationConfig, GenerationConfig, realtimeConfig, RealtimeConfig } from '@app/config';
import { MetricsService } from '@app/metrics';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';

/** Records deleted per batch, and batches per run: a run stays bounded however much is due. */
export const RETENTION_BATCH_SIZE = 500;
export const RETENTION_MAX_BATCHES = 20;

export interface RetentionReport {
  /** Job records deleted. */
  records: number;
  /** BullMQ entries that were still there. */
  queueEntries: number;
  /** Job ledgers (Redis hashes) that were still there. */
  ledgers: number;
  /** False when the run stopped at its batch limit with more still due (the next run goes on). */
  complete: boolean;
}

/**
 * Deletes finished (completed, failed or cancelled) job records older than JOB_RETENTION_MS, with what
 * Redis still holds of them (their BullMQ entry, their ledger); library items are separate documents and
 * stay. Their notifications need nothing: each user's event stream drops events older than the replay
 * window by itself.
 */
@Injectable()
export class JobRetention {
  private readonly logger = new Logger(JobRetention.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly ledger: JobLedgerRepository,
    private readonly queue: JobQueue,
    private readonly metrics: MetricsService,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
    @Inject(realtimeConfig.KEY) realtime: RealtimeConfig,
  ) {
    if (realtime.replayWindowMs > config.retentionMs) {
      this.logger.warn('NOTIFICATIONS_REPLAY_WINDOW_MS is longer than JOB_RETENTION_MS: events of deleted jobs stay in the replay window that long');
    }
  }

  async run(now = Date.now()): Promise<RetentionReport> {
    const before = new Date(now - this.config.retentionMs);
    const report: RetentionReport = { records: 0, queueEntries: 0, ledgers: 0, complete: true };
    for (let batch = 0; ; batch++) {
      const due = await this.jobs.listFinishedBefore(before, RETENTION_BATCH_SIZE);
      if (due.length === 0) break;
      if (batch === RETENTION_MAX_BATCHES) {
        report.complete = false;
        break;
      }
      // The records go first: an admin retry in between keeps its record and its queue entry.
      const deleted = await this.jobs.deleteFinishedBefore(due, before);
      report.records += deleted.length;
      if (deleted.length > 0) {
        report.queueEntries += await this.queue.removeJobs(deleted);
        report.ledgers += await this.ledger.forget(deleted);
      }
      if (due.length < RETENTION_BATCH_SIZE) break;
      // Nothing of a full batch could be deleted: the same records would come back, so leave them to the next run.
      if (deleted.length === 0) {
        report.complete = false;
        break;
      }
    }
    this.metrics.retentionRan(report);
    this.logger.log({ msg: 'deleted finished jobs past their retention', retentionMs: this.config.retentionMs, ...report });
    return report;
  }
}
