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

  /** Newest first. Read by the ring's `_id`s (FerretDB answers `_id` alone from an index; `webhookId` would be a scan). */
  async list(webhookId: string): Promise<WebhookDeliveryView[]> {
    const entries = await inBatches(ringIds(webhookId), (_id) => this.deliveries.findById(_id).lean<WebhookDelivery>());
    return entries
      .filter((entry): entry is WebhookDelivery => Boolean(entry))
      .sort((a, b) => b.seq - a.seq)
      .map(toView);
  }

  async deleteFor(webhookId: string): Promise<void> {
    await inBatches(ringIds(webhookId), (_id) => this.deliveries.deleteOne({ _id }));
  }
}

/** How many reads or deletes of one ring run at once. */
const BATCH = 10;

function ringIds(webhookId: string): string[] {
  return Array.from({ length: DELIVERY_LOG_SIZE }, (_unused, position) => `${webhookId}:${position}`);
}

async function inBatches<T>(ids: string[], run: (id: string) => PromiseLike<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < ids.length; start += BATCH) results.push(...(await Promise.all(ids.slice(start, start + BATCH).map(run))));
  return results;
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
