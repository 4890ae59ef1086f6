import { Injectable, Logger } from '@nestjs/common';
import { WebhookLimitsRepository } from './webhook-limits.repository';
import { WebhookRepository } from './webhook.repository';
import { WebhookEventType } from './webhook.types';

/**
 * Which event types a user's enabled webhooks hear, cached in Redis (computed from MongoDB), so an event
 * nobody hears is never queued. Every change of a user's webhooks calls `changing` before and `changed`
 * after; each recompute carries a version, and only the last one begun may store its answer.
 */
@Injectable()
export class WebhookSubscriptions {
  private readonly logger = new Logger(WebhookSubscriptions.name);

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly limits: WebhookLimitsRepository,
  ) {}

  /** Whether an enabled webhook of the user hears `type`; computed once from MongoDB when not cached. */
  async hears(userId: string, type: WebhookEventType): Promise<boolean> {
    const cached = await this.limits.hears(userId, type);
    if (cached !== 'unknown') return cached === 'yes';
    return (await this.recompute(userId)).includes(type);
  }

  /** Before a change: emits read MongoDB until `changed` (Redis must be up, or the change is not made). */
  async changing(userId: string): Promise<void> {
    await this.limits.invalidateEvents(userId);
  }

  /** After a change; best effort (the next emit computes it should this fail). */
  async changed(userId: string): Promise<void> {
    await this.recompute(userId).catch((error: Error) => this.logger.warn({ msg: 'could not recompute the webhook event types of a user', userId, error: error.message }));
  }

  private async recompute(userId: string): Promise<WebhookEventType[]> {
    const version = await this.limits.invalidateEvents(userId);
    const types = [...new Set((await this.webhooks.list(userId)).filter((webhook) => webhook.enabled).flatMap((webhook) => webhook.events))];
    await this.limits.storeEvents(userId, version, types);
    return types;
  }
}
