import { Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError, WorkerOptions } from 'bullmq';
import { webhooksConfig } from '@app/config';
import { DeliveryVerdict, RetryDeliveryError, WebhookDeliveryService, webhookBackoff, WebhookJobMap, WebhookJobName, WEBHOOKS_QUEUE } from '@app/webhooks';

type Handlers = { [Name in WebhookJobName]: (job: Job<WebhookJobMap[Name]>) => Promise<unknown> };

/** Options from the validated config (read when this module loads, as worker-options.ts does); the backoff honours Retry-After. */
function webhookWorkerOptions(): Partial<WorkerOptions> {
  return { concurrency: webhooksConfig().concurrency, settings: { backoffStrategy: webhookBackoff } };
}

/** Turns webhooks-queue jobs into WebhookDeliveryService calls, and delivery verdicts into BullMQ retries. */
@Processor(WEBHOOKS_QUEUE, webhookWorkerOptions())
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(private readonly deliveries: WebhookDeliveryService) {
    super();
  }

  /** Every job name must have a handler here: a missing one fails the build. */
  private readonly handlers: Handlers = {
    event: (job) => this.deliveries.fanOut(job.data),
    deliver: async (job) => this.apply(job, await this.deliveries.deliver(job.data, job.attemptsMade + 1)),
  };

  process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as WebhookJobName] as ((job: Job) => Promise<unknown>) | undefined;
    if (!handler) throw new UnrecoverableError(`No handler for webhooks job "${job.name}"`);
    return handler(job);
  }

  private apply(job: Job<WebhookJobMap['deliver']>, verdict: DeliveryVerdict): void {
    if (verdict.action === 'retry') throw new RetryDeliveryError(verdict.delayMs, verdict.reason);
    if (verdict.action === 'fail') {
      this.logger.log({ msg: 'webhook delivery failed', webhookId: job.data.webhookId, msgId: job.data.msgId, reason: verdict.reason });
      throw new UnrecoverableError(verdict.reason);
    }
  }
}
