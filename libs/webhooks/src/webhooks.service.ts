import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { webhooksConfig, WebhooksConfig } from '@app/config';
import { targetProblem } from './ssrf-guard';
import { WebhookClient } from './webhook.client';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { refusedUrl, testPingLimited, webhookLimitReached, webhookNotFound } from './webhook.errors';
import { WebhookLimitsRepository } from './webhook-limits.repository';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { WebhookQueue } from './webhook.queue';
import { WebhookRecord, WebhookRepository } from './webhook.repository';
import { generateSecret, messageId } from './webhook-signature';
import { WebhookStateRepository } from './webhook-state.repository';
import {
  MAX_WEBHOOKS_PER_USER,
  PREVIOUS_SECRET_TTL_MS,
  SLOT_CLAIM_GRACE_MS,
  TEST_PING_INTERVAL_MS,
  WEBHOOK_TEST_EVENT,
  WebhookBody,
  WebhookChanges,
  WebhookDeliveryView,
  WebhookInput,
  WebhookView,
  WebhookWithSecret,
} from './webhook.types';

const EDITABLE_FIELDS = ['url', 'events', 'description', 'enabled'] as const;

/** Users' webhook endpoints: CRUD, secret rotation, test pings and the delivery log. Another user's webhook is 404. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly state: WebhookStateRepository,
    private readonly limits: WebhookLimitsRepository,
    private readonly subscriptions: WebhookSubscriptions,
    private readonly queue: WebhookQueue,
    private readonly client: WebhookClient,
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
  ) {}

  /**
   * A new endpoint with a fresh secret (shown only here and on rotation). The URL is refused (400 naming
   * `url`) when its form is wrong or its host resolves to an internal address. At MAX_WEBHOOKS_PER_USER the
   * answer is 409 WEBHOOK_LIMIT_REACHED: a slot is taken in Redis first (exact under racing creates), and the
   * count in MongoDB is checked again before the insert.
   */
  async create(userId: string, input: WebhookInput): Promise<WebhookWithSecret> {
    await this.checkUrl(input.url);
    const id = this.webhooks.newId();
    await this.takeSlot(userId, id);
    try {
      if ((await this.webhooks.count(userId)) >= MAX_WEBHOOKS_PER_USER) throw webhookLimitReached();
      await this.subscriptions.changing(userId);
      const created = await this.webhooks.create(userId, { url: input.url, events: unique(input.events), description: input.description, secret: generateSecret() }, id);
      await this.subscriptions.changed(userId);
      return { ...toView(created, 0), secret: created.secret };
    } catch (error) {
      await this.limits.releaseSlots(userId, [id]).catch(() => undefined);
      throw error;
    }
  }

  async list(userId: string): Promise<WebhookView[]> {
    const webhooks = await this.webhooks.list(userId);
    const streaks = await this.state.streaks(userId, webhooks.map((webhook) => webhook._id));
    return webhooks.map((webhook, i) => toView(webhook, streaks[i]));
  }

  async get(userId: string, id: string): Promise<WebhookView> {
    return this.view(await this.owned(userId, id));
  }

  /** Changes any of url (checked as on create), events, description and enabled; re-enabling starts a new failure streak. */
  async update(userId: string, id: string, changes: WebhookChanges): Promise<WebhookView> {
    const given = EDITABLE_FIELDS.filter((field) => changes?.[field] !== undefined);
    if (given.length === 0) throw new DomainError('INVALID_ARGUMENT', `Provide at least one of ${EDITABLE_FIELDS.join(', ')}`);
    const current = await this.owned(userId, id);
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    const set: Record<string, unknown> = {};
    const unset: 'disabledAt'[] = [];
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.events !== undefined) set.events = unique(changes.events);
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.enabled === true && !current.enabled) {
      await this.state.resetStreak(userId, current._id);
      Object.assign(set, { enabled: true, failureStreak: 0 });
      unset.push('disabledAt');
    } else if (changes.enabled === false && current.enabled) {
      Object.assign(set, { enabled: false, disabledAt: new Date() });
    }
    await this.subscriptions.changing(userId);
    const updated = await this.webhooks.update(current._id, set, unset);
    await this.subscriptions.changed(userId);
    if (!updated) throw webhookNotFound();
    return this.view(updated);
  }

  /** Deletes the webhook, its log, its Redis state and its slot. */
  async remove(userId: string, id: string): Promise<{ id: string }> {
    const current = await this.owned(userId, id);
    await this.subscriptions.changing(userId);
    const deleted = await this.webhooks.delete(current._id);
    await this.subscriptions.changed(userId);
    if (!deleted) throw webhookNotFound();
    await this.deliveries.deleteFor(current._id);
    await this.state.forget(userId, current._id);
    await this.limits.releaseSlots(userId, [current._id]);
    return { id: current._id };
  }

  /** Every webhook of a user, with their logs and Redis state (for an account's deletion); returns how many. */
  async removeAllOf(userId: string): Promise<number> {
    const webhooks = await this.webhooks.list(userId);
    for (const webhook of webhooks) await this.remove(userId, webhook._id);
    return webhooks.length;
  }

  /**
   * Removes the user's entries from the webhooks queue (events not yet fanned out, deliveries not yet or no
   * longer tried), waiting up to `timeoutMs` for those a worker holds; DEPENDENCY_UNAVAILABLE when one is still
   * held then. Run after removeAllOf: a delivery taken meanwhile finds its endpoint gone and sends nothing.
   */
  async purgeQueuedOf(userId: string, timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let removed = 0;
    for (;;) {
      const pass = await this.queue.removeEntriesOf(userId);
      removed += pass.removed;
      if (pass.held.length === 0) return removed;
      if (Date.now() >= deadline) throw new DomainError('DEPENDENCY_UNAVAILABLE', 'Webhook deliveries are still running; repeat the request');
      await sleep(200);
    }
  }

  /** A new secret; the old one keeps signing (a second signature) for 24 h, so receivers can switch over. */
  async rotateSecret(userId: string, id: string): Promise<WebhookWithSecret> {
    const current = await this.owned(userId, id);
    const secret = generateSecret();
    const updated = await this.webhooks.update(current._id, { secret, previousSecret: current.secret, previousSecretExpiresAt: new Date(Date.now() + PREVIOUS_SECRET_TTL_MS) });
    // A rotation of a webhook deleted meanwhile must not leave its types cached.
    await this.subscriptions.changed(userId);
    if (!updated) throw webhookNotFound();
    return { ...(await this.view(updated)), secret };
  }

  /**
   * Queues a `webhook.test` ping to this endpoint only (also when it is disabled), tried once; it never counts
   * toward the streak. At most one per TEST_PING_INTERVAL_MS per webhook (RATE_LIMITED, with Retry-After).
   */
  async test(userId: string, id: string): Promise<{ eventId: string; msgId: string }> {
    const current = await this.owned(userId, id);
    const waitMs = await this.limits.claimPing(userId, current._id, TEST_PING_INTERVAL_MS);
    if (waitMs > 0) throw testPingLimited(waitMs, TEST_PING_INTERVAL_MS);
    const eventId = `test-${randomUUID()}`;
    const body: WebhookBody = { type: WEBHOOK_TEST_EVENT, timestamp: new Date().toISOString(), data: { webhookId: current._id, url: current.url } };
    const msgId = messageId(eventId, current._id);
    await this.queue.addDelivery({ eventId, webhookId: current._id, userId, msgId, type: WEBHOOK_TEST_EVENT, body: JSON.stringify(body) }, 1);
    return { eventId, msgId };
  }

  /** The last attempts (up to 100), newest first. */
  async deliveryLog(userId: string, id: string): Promise<WebhookDeliveryView[]> {
    const current = await this.owned(userId, id);
    return this.deliveries.list(current._id);
  }

  /** The record with its live failure streak (kept in Redis). */
  private async view(webhook: WebhookRecord): Promise<WebhookView> {
    const [streak] = await this.state.streaks(webhook.userId, [webhook._id]);
    return toView(webhook, streak);
  }

  private async owned(userId: string, id: string): Promise<WebhookRecord> {
    const webhook = await this.webhooks.findOwned(userId, id);
    if (!webhook) throw webhookNotFound();
    return webhook;
  }

  /**
   * A slot for webhook `id`, or WEBHOOK_LIMIT_REACHED. At the cap, slots held by ids MongoDB does not have
   * (a create that died half-way, older than SLOT_CLAIM_GRACE_MS) are given back and the slot tried once more.
   */
  private async takeSlot(userId: string, id: string): Promise<void> {
    const stored = (await this.webhooks.list(userId)).map((webhook) => webhook._id);
    if (await this.limits.takeSlot(userId, id, MAX_WEBHOOKS_PER_USER, stored)) return;
    const known = new Set((await this.webhooks.list(userId)).map((webhook) => webhook._id));
    const stale = (await this.limits.slotHolders(userId)).filter((holder) => !known.has(holder) && createdAt(holder) < Date.now() - SLOT_CLAIM_GRACE_MS);
    if (stale.length === 0) throw webhookLimitReached();
    await this.limits.releaseSlots(userId, stale);
    if (!(await this.limits.takeSlot(userId, id, MAX_WEBHOOKS_PER_USER, [...known]))) throw webhookLimitReached();
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await targetProblem(url, { allowPrivate: this.config.allowPrivate, httpsOnly: this.config.httpsOnly }, this.client.resolve);
    if (problem) throw refusedUrl(problem);
  }
}

/** When an ObjectId was made (its first 4 bytes); 0 for anything else, which is never a live claim. */
function createdAt(id: string): number {
  return /^[0-9a-f]{24}$/.test(id) ? parseInt(id.slice(0, 8), 16) * 1000 : 0;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function toView(webhook: WebhookRecord, failureStreak: number): WebhookView {
  const view: WebhookView = {
    _id: webhook._id,
    url: webhook.url,
    events: webhook.events,
    enabled: webhook.enabled,
    failureStreak,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  };
  if (webhook.description !== undefined) view.description = webhook.description;
  if (webhook.disabledAt) view.disabledAt = webhook.disabledAt;
  if (webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt.getTime() > Date.now()) view.previousSecretExpiresAt = webhook.previousSecretExpiresAt;
  return view;
}
