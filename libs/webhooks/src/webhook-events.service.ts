import { Injectable } from '@nestjs/common';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { WebhookQueue } from './webhook.queue';
import { WebhookBody, WebhookEventType } from './webhook.types';

export interface WebhookEvent {
  /** Stable per event: a repeat with the same id is dropped, and every delivery of it keeps one webhook-id per endpoint. */
  id: string;
  type: WebhookEventType;
  /** The owner: only their webhooks hear of it. */
  userId: string;
  /** The body's `data` (for job events, the job as the API shows it). */
  data: unknown;
  /** When it happened (the body's `timestamp`); now when left out. */
  timestamp?: Date;
}

/** How the rest of the code announces an event to webhooks. */
@Injectable()
export class WebhookEventsService {
  constructor(
    private readonly queue: WebhookQueue,
    private readonly subscriptions: WebhookSubscriptions,
  ) {}

  /**
   * Queues the event for the owner's webhooks subscribed to it; `id` is stable per event (a repeat is
   * dropped), so every retry carries the same webhook-id. Never delivers on the caller's path: one BullMQ
   * job, fanned out by the worker. Queues nothing when no enabled webhook of the owner hears the type (a
   * Redis set, computed from MongoDB). Rejects when Redis does not take it within 2 s (the caller retries).
   */
  async emit(event: WebhookEvent): Promise<void> {
    if (!(await this.subscriptions.hears(event.userId, event.type))) return;
    const body: WebhookBody = { type: event.type, timestamp: (event.timestamp ?? new Date()).toISOString(), data: event.data };
    await this.queue.addEvent({ eventId: event.id, type: event.type, userId: event.userId, body: JSON.stringify(body) });
  }
}
