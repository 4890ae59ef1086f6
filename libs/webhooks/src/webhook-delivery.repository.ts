import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { WebhookDelivery } from './webhook-delivery.schema';
import { DELIVERY_LOG_SIZE, WebhookDeliveryView } from './webhook.types';

/** The delivery log: a ring of DELIVERY_LOG_SIZE attempts per webhook, overwritten by `_id` (see the schema). */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(@InjectModel(WebhookDelivery.name) private readonly deliveries: Model<WebhookDelivery>) {}

  /** Writes attempt entry number `seq` (from Redis, increasing per webhook) into its ring position. */
  async record(webhookId: string, seq: number, entry: WebhookDeliveryView): Promise<void> {
    const _id = `${webhookId}:${seq % DELIVERY_LOG_SIZE}`;
    await this.deliveries.replaceOne({ _id }, { _id, webhookId, seq, ...entry }, { upsert: true });
  }

  /** Newest first. */
  async list(webhookId: string): Promise<WebhookDeliveryView[]> {
    const entries = await this.deliveries.find({ webhookId }).sort({ seq: -1 }).limit(DELIVERY_LOG_SIZE).lean();
    return entries.map(toView);
  }

  async deleteFor(webhookId: string): Promise<void> {
    await this.deliveries.deleteMany({ webhookId });
  }
}

function toView(entry: WebhookDelivery): WebhookDeliveryView {
  const view: WebhookDeliveryView = {
    at: entry.at,
    eventId: entry.eventId,
    msgId: entry.msgId,
    type: entry.type as WebhookDeliveryView['type'],
    attempt: entry.attempt,
    latencyMs: entry.latencyMs,
    outcome: entry.outcome as WebhookDeliveryView['outcome'],
  };
  if (entry.statusCode !== undefined) view.statusCode = entry.statusCode;
  if (entry.error !== undefined) view.error = entry.error;
  if (entry.responseBytes !== undefined) view.responseBytes = entry.responseBytes;
  if (entry.truncated) view.truncated = true;
  return view;
}
