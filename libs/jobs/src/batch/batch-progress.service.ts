import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PubSubService } from '@app/pubsub';
import { WebhookEventsService } from '@app/webhooks';
import { BatchProgressRepository, BatchStep } from './batch-progress.repository';

/** What the finisher knows of a job that ended. */
export interface EndedBatchJob {
  jobId: string;
  userId: string;
  status: string;
  correlationId: string;
  batchId?: string;
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/** The once-key of a batch's batch_completed: the notification log records and sends it once. */
export function batchCompletedOnceKey(batchId: string): string {
  return `batch:${batchId}:completed`;
}

/**
 * Announces a batch's progress as its jobs end: `batch_progress` at most twice a second per batch
 * (a throttled one is sent when due, by a timer in the process that was throttled) and `batch_completed`
 * once, when the last job has ended. Called by JobFinisher, in the worker and in the API (cancels).
 */
@Injectable()
export class BatchProgress implements OnApplicationShutdown {
  private readonly logger = new Logger(BatchProgress.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly progress: BatchProgressRepository,
    private readonly events: PubSubService,
    private readonly webhooks: WebhookEventsService,
  ) {}

  /**
   * Counts the job's end into its batch (once per job, however often it is called) and announces what
   * follows. Rejects only when batch_completed could not be announced, so the finisher is repeated.
   */
  async jobEnded(job: EndedBatchJob): Promise<void> {
    if (!job.batchId || !ENDED.has(job.status)) return;
    const step = await this.progress.countEnd(job.batchId, job.jobId, job.status as 'completed' | 'failed' | 'cancelled');
    await this.announce(job.batchId, job.userId, step, job.correlationId);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async announce(batchId: string, userId: string, step: BatchStep, correlationId?: string): Promise<void> {
    switch (step.kind) {
      case 'completed': {
        // Decided here, once per batch: the last job's end. The once-key keeps a repeated announcement single,
        // and the same id drops a repeated webhook event.
        const completed = { batchId, counts: { queued: 0, processing: 0, completed: step.ended.completed, failed: step.ended.failed, cancelled: step.ended.cancelled } };
        await this.events.publish('batch_completed', userId, completed, { correlationId, once: batchCompletedOnceKey(batchId) });
        await this.webhooks.emit({ id: batchCompletedOnceKey(batchId), type: 'batch.completed', userId, data: completed });
        return;
      }
      case 'progress':
        await this.sendProgress(batchId, userId, step, correlationId);
        return;
      case 'throttled':
        this.later(batchId, userId, step.dueAt);
        return;
    }
  }

  /** Best-effort, like job_delta: a lost batch_progress is made good by the next one or by batch_completed. */
  private async sendProgress(batchId: string, userId: string, step: Extract<BatchStep, { kind: 'progress' }>, correlationId?: string): Promise<void> {
    try {
      const counts = await this.progress.counts(batchId, step.ended);
      if (counts) await this.events.publish('batch_progress', userId, { batchId, counts }, { correlationId });
    } catch (error) {
      this.logger.warn({ msg: 'batch_progress not sent', batchId, error: (error as Error).message });
    }
  }

  private later(batchId: string, userId: string, dueAt: number): void {
    if (this.timers.has(batchId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(batchId);
      void this.progress
        .flush(batchId)
        .then((step) => (step.kind === 'throttled' ? this.later(batchId, userId, step.dueAt) : step.kind === 'progress' ? this.sendProgress(batchId, userId, step) : undefined))
        .catch((error: Error) => this.logger.warn({ msg: 'batch_progress not sent', batchId, error: error.message }));
    }, Math.max(0, dueAt - Date.now()) + 5);
    timer.unref();
    this.timers.set(batchId, timer);
  }
}
