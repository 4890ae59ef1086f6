import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { ownerObjectId, parseObjectId } from '@app/common';
import { Webhook } from './webhook.schema';
import { WebhookEventType, WebhookTarget, WebhookView } from './webhook.types';

type StoredWebhook = Webhook & { _id: unknown };
export type WebhookRecord = WebhookView & WebhookTarget;

export interface NewWebhook {
  url: string;
  events: WebhookEventType[];
  description?: string;
  secret: string;
}

/**
 * Webhooks. Ids are strings in and out: one that is not an ObjectId matches nothing. Single webhooks are
 * read by _id alone (the one filter FerretDB answers from an index) and the owner is checked here.
 */
@Injectable()
export class WebhookRepository {
  constructor(@InjectModel(Webhook.name) private readonly webhooks: Model<Webhook>) {}

  /** An id for a webhook not yet stored (its slot is taken under it first). */
  newId(): string {
    return new Types.ObjectId().toHexString();
  }

  async create(userId: string, fields: NewWebhook, id = this.newId()): Promise<WebhookRecord> {
    const created = await this.webhooks.create({ ...fields, _id: new Types.ObjectId(id), userId: ownerObjectId(userId), enabled: true, failureStreak: 0 });
    return toRecord(created.toObject());
  }

  /** The webhook by id alone (the worker's read); undefined when gone. */
  async findById(id: string): Promise<WebhookRecord | undefined> {
    const webhookId = parseObjectId(id);
    if (!webhookId) return undefined;
    const webhook = await this.webhooks.findOne({ _id: webhookId }).lean();
    return webhook ? toRecord(webhook) : undefined;
  }

  /** Another user's webhook looks missing. */
  async findOwned(userId: string, id: string): Promise<WebhookRecord | undefined> {
    const webhook = await this.findById(id);
    return webhook && webhook.userId === userId.toLowerCase() ? webhook : undefined;
  }

  /** Oldest first. */
  async list(userId: string): Promise<WebhookRecord[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    const webhooks = await this.webhooks.find({ userId: owner }).sort({ createdAt: 1, _id: 1 }).lean();
    return webhooks.map(toRecord);
  }

  async count(userId: string): Promise<number> {
    const owner = parseObjectId(userId);
    return owner ? this.webhooks.countDocuments({ userId: owner }) : 0;
  }

  /** Sets fields of a webhook the caller has already found as theirs; `unset` lists fields to remove. */
  async update(id: string, set: Partial<Omit<Webhook, 'userId'>>, unset: (keyof Webhook)[] = []): Promise<WebhookRecord | undefined> {
    const webhookId = parseObjectId(id);
    if (!webhookId) return undefined;
    const change = { $set: set, ...(unset.length ? { $unset: Object.fromEntries(unset.map((field) => [field, 1])) } : {}) };
    const webhook = await this.webhooks.findOneAndUpdate({ _id: webhookId }, change, { returnDocument: 'after', runValidators: true }).lean();
    return webhook ? toRecord(webhook) : undefined;
  }

  /** Disables an enabled webhook (a second call changes nothing; Redis decided the disable once already). */
  async disable(id: string, at: Date, failureStreak: number): Promise<void> {
    const webhookId = parseObjectId(id);
    if (webhookId) await this.webhooks.updateOne({ _id: webhookId, enabled: true }, { $set: { enabled: false, disabledAt: at, failureStreak } });
  }

  async delete(id: string): Promise<boolean> {
    const webhookId = parseObjectId(id);
    if (!webhookId) return false;
    return (await this.webhooks.deleteOne({ _id: webhookId })).deletedCount === 1;
  }
}


function toRecord(webhook: StoredWebhook): WebhookRecord {
  const record: WebhookRecord = {
    _id: String(webhook._id),
    userId: String(webhook.userId),
    url: webhook.url,
    events: webhook.events,
    enabled: webhook.enabled,
    failureStreak: webhook.failureStreak ?? 0,
    secret: webhook.secret,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  };
  if (webhook.description !== undefined) record.description = webhook.description;
  if (webhook.disabledAt) record.disabledAt = webhook.disabledAt;
  if (webhook.previousSecret) record.previousSecret = webhook.previousSecret;
  if (webhook.previousSecretExpiresAt) record.previousSecretExpiresAt = webhook.previousSecretExpiresAt;
  return record;
}
