import { Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job, UnrecoverableError, WorkerOptions } from 'bullmq';
import { isDependencyDown } from '@app/common';
import { webhooksConfig } from '@app/config';
import { DeliveryVerdict, RetryDeliveryError, WebhookDeliveryService, webhookBackoff, WebhookJobMap, WebhookJobName, WEBHOOKS_QUEUE } from '@app/webhooks';

type Handlers = { [Name in WebhookJobName]: (job: Job<WebhookJobMap[Name]>) => Promise<unknown> };

/** The first wait of a job put off by an outage, and the longest: the wait grows with the outage in between. */
export const OUTAGE_DELAY_MIN_MS = 1000;
export const OUTAGE_DELAY_MAX_MS = 30_000;

/** Options from the validated config (read when this module loads, as worker-options.ts does); the backoff honours Retry-After. */
function webhookWorkerOptions(): Partial<WorkerOptions> {
  return { concurrency: webhooksConfig().concurrency, settings: { backoffStrategy: webhookBackoff } };
}

/**
 * Turns webhooks-queue jobs into WebhookDeliveryService calls, and delivery verdicts into BullMQ retries. Only
 * real HTTP attempts use a BullMQ attempt: a job that meets MongoDB or Redis down is put off without using one.
 */
@Processor(WEBHOOKS_QUEUE, webhookWorkerOptions())
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger(WebhookProcessor.name);
  /** When the current outage was first met (undefined while none is), so the put-off waits grow with it. */
  private outageSince: number | undefined;

  constructor(private readonly deliveries: WebhookDeliveryService) {
    super();
  }

  /** Every job name must have a handler here: a missing one fails the build. */
  private readonly handlers: Handlers = {
    event: async (job) => {
      const queued = await this.deliveries.fanOut(job.data);
      // Only the id of a fanned-out event matters now (a repeat is dropped by it): its body need not stay in Redis.
      await job.updateData({ ...job.data, body: '' }).catch(() => undefined);
      return queued;
    },
    deliver: async (job) => this.apply(job, await this.deliveries.deliver(job.data, job.attemptsMade + 1)),
  };

  async process(job: Job, token?: string): Promise<unknown> {
    const handler = this.handlers[job.name as WebhookJobName] as ((job: Job) => Promise<unknown>) | undefined;
    if (!handler) throw new UnrecoverableError(`No handler for webhooks job "${job.name}"`);
    try {
      const result = await handler(job);
      this.outageSince = undefined;
      return result;
    } catch (error) {
      if (!isDependencyDown(error)) throw error;
      await this.putOff(job, token, error as Error);
      throw new DelayedError();
    }
  }

  private apply(job: Job<WebhookJobMap['deliver']>, verdict: DeliveryVerdict): void {
    if (verdict.action === 'retry') throw new RetryDeliveryError(verdict.delayMs, verdict.reason);
    if (verdict.action === 'fail') {
      this.logger.log({ msg: 'webhook delivery failed', webhookId: job.data.webhookId, msgId: job.data.msgId, reason: verdict.reason });
      throw new UnrecoverableError(verdict.reason);
    }
  }

  /** Runs the job again later without using an attempt; with Redis down the lock runs out and stall recovery does it. */
  private async putOff(job: Job, token: string | undefined, error: Error): Promise<void> {
    const now = Date.now();
    this.outageSince ??= now;
    const delayMs = Math.min(Math.max(now - this.outageSince, OUTAGE_DELAY_MIN_MS), OUTAGE_DELAY_MAX_MS);
    this.logger.warn({ msg: 'a dependency is down; webhook job put off without using an attempt', jobId: job.id, delayMs, error: error.message });
    await job.moveToDelayed(now + delayMs, token).catch((cause: Error) => this.logger.warn(`Could not delay webhook job ${job.id}: ${cause.message}`));
  }
}
