import { Inject, Injectable, Logger } from '@nestjs/common';
import { webhooksConfig, WebhooksConfig } from '@app/config';
import { PubSubService } from '@app/pubsub';
import { judgeAttempt, retryDelayMs } from './delivery-policy';
import { WebhookClient, WebhookResponse } from './webhook.client';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookRecord, WebhookRepository } from './webhook.repository';
import { messageId, signatureHeaders, signingSecrets } from './webhook-signature';
import { WebhookStateRepository } from './webhook-state.repository';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { deliveryJobId, WebhookQueue } from './webhook.queue';
import { WEBHOOK_TEST_EVENT, WebhookDeliveryView, WebhookJobMap } from './webhook.types';

/** What the worker does with a delivery job after one attempt. */
export type DeliveryVerdict = { action: 'done' } | { action: 'retry'; delayMs: number; reason: string } | { action: 'fail'; reason: string };
/** Logged only: nothing was sent. */
type Skip = { action: 'skip'; reason: string };

const OUTCOMES: Record<(DeliveryVerdict | Skip)['action'], WebhookDeliveryView['outcome']> = { done: 'delivered', retry: 'retrying', fail: 'failed', skip: 'skipped' };

/**
 * The worker side of webhooks: fans an event out to the owner's endpoints, makes one attempt of one
 * delivery (signed, SSRF-checked at connect time), logs every attempt, and counts finished deliveries
 * into the endpoint's failure streak, disabling it (and telling its owner once) at WEBHOOK_DISABLE_AFTER.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger(WebhookDeliveryService.name);

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly log: WebhookDeliveryRepository,
    private readonly state: WebhookStateRepository,
    private readonly queue: WebhookQueue,
    private readonly client: WebhookClient,
    private readonly events: PubSubService,
    private readonly subscriptions: WebhookSubscriptions,
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
  ) {}

  /** One delivery job per enabled endpoint of the owner subscribed to the event; returns how many (a repeat adds none). */
  async fanOut(event: WebhookJobMap['event']): Promise<number> {
    // The worker empties a fanned-out event's body (kept only for its id); a rerun of it has nothing to add.
    if (!event.body) return 0;
    const targets = (await this.webhooks.list(event.userId)).filter((webhook) => webhook.enabled && webhook.events.includes(event.type));
    for (const target of targets) {
      await this.queue.addDelivery({ eventId: event.eventId, webhookId: target._id, userId: event.userId, msgId: messageId(event.eventId, target._id), type: event.type, body: event.body });
    }
    return targets.length;
  }

  /**
   * Attempt `attempt` (1 = first) of one delivery. An endpoint deleted since is skipped; one disabled since is
   * skipped with a log entry (a test ping still goes to a disabled one). The signature is made now, with the
   * secrets valid now. A test ping gets one attempt. Throws only when MongoDB is unreachable (nothing sent).
   */
  async deliver(delivery: WebhookJobMap['deliver'], attempt: number): Promise<DeliveryVerdict> {
    const target = await this.webhooks.findById(delivery.webhookId);
    const isTest = delivery.type === WEBHOOK_TEST_EVENT;
    if (!target || target.userId !== delivery.userId) return { action: 'done' };
    if (!target.enabled && !isTest) {
      await this.logAttempt(target, delivery, attempt, { latencyMs: 0 }, { action: 'skip', reason: 'endpoint disabled' }, new Date());
      return { action: 'done' };
    }

    const now = new Date();
    const headers = signatureHeaders(delivery.msgId, delivery.body, signingSecrets(target, now), now);
    const response = await this.client.send({ url: target.url, headers, body: delivery.body }, { timeoutMs: this.config.timeoutMs, allowPrivate: this.config.allowPrivate, httpsOnly: this.config.httpsOnly });
    const judged = judgeAttempt(response);
    const last = isTest || attempt >= this.config.maxAttempts;
    const verdict: DeliveryVerdict =
      judged.kind === 'delivered'
        ? { action: 'done' }
        : judged.kind === 'retryable' && !last
          ? { action: 'retry', delayMs: retryDelayMs(attempt, this.config.backoffMs, response.retryAfterMs), reason: judged.reason }
          : { action: 'fail', reason: judged.reason };

    await this.logAttempt(target, delivery, attempt, response, verdict, now);
    // A delivery counts once it is over (all its attempts); test pings never count.
    if (verdict.action !== 'retry' && !isTest) await this.count(target, delivery, verdict.action === 'done');
    return verdict;
  }

  /** Best effort: a log write that fails must not send the delivery again. */
  private async logAttempt(target: WebhookRecord, delivery: WebhookJobMap['deliver'], attempt: number, response: WebhookResponse, verdict: DeliveryVerdict | Skip, at: Date): Promise<void> {
    const entry: WebhookDeliveryView = {
      at,
      eventId: delivery.eventId,
      msgId: delivery.msgId,
      type: delivery.type,
      attempt,
      latencyMs: response.latencyMs,
      outcome: OUTCOMES[verdict.action],
    };
    if (response.statusCode !== undefined) entry.statusCode = response.statusCode;
    if (verdict.action !== 'done') entry.error = verdict.reason;
    if (response.responseBytes !== undefined) entry.responseBytes = response.responseBytes;
    if (response.truncated) entry.truncated = true;
    try {
      await this.log.record(target._id, await this.state.nextLogSeq(target.userId, target._id), entry);
    } catch (error) {
      this.logger.warn({ msg: 'could not log a webhook attempt', webhookId: target._id, msgId: delivery.msgId, error: (error as Error).message });
    }
  }

  /**
   * The streak is counted in Redis, once per delivery; the failure that reaches WEBHOOK_DISABLE_AFTER disables
   * the endpoint. Disabling and its webhook_disabled are repeated by later failures until they land (both
   * are idempotent: a conditional update and a once-key). Best effort: a count lost to an outage is not resent.
   */
  private async count(target: WebhookRecord, delivery: WebhookJobMap['deliver'], delivered: boolean): Promise<void> {
    try {
      const deliveryId = deliveryJobId(delivery.eventId, target._id);
      const { streak, disabledMark } = await this.state.countDelivery(target.userId, target._id, deliveryId, delivered, this.config.disableAfter);
      // The streak is not copied to the record: FerretDB rewrites whole documents, so racing writes would undo a disable.
      if (!delivered && disabledMark && streak >= this.config.disableAfter) await this.disable(target, streak, disabledMark);
    } catch (error) {
      this.logger.warn({ msg: 'could not count a webhook delivery', webhookId: target._id, msgId: delivery.msgId, error: (error as Error).message });
    }
  }

  private async disable(target: WebhookRecord, streak: number, mark: string): Promise<void> {
    const reason = `${streak} deliveries in a row failed`;
    await this.webhooks.disable(target._id, new Date(Number(mark)), streak);
    // A disabled endpoint no longer hears anything: its owner's events may stop being queued.
    await this.subscriptions.changed(target.userId);
    await this.events.publish('webhook_disabled', target.userId, { webhookId: target._id, url: target.url, reason }, { once: `webhook:${target._id}:disabled:${mark}` });
    this.logger.warn({ msg: 'webhook disabled', webhookId: target._id, reason });
  }
}
