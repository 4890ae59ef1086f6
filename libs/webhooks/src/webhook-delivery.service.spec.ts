import { WebhooksConfig } from '@app/config';
import { PubSubService } from '@app/pubsub';
import { strictMock } from '@app/testing';
import { Webhook } from 'standardwebhooks';
import { WebhookClient, WebhookResponse } from './webhook.client';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { deliveryJobId, WebhookQueue } from './webhook.queue';
import { WebhookRecord, WebhookRepository } from './webhook.repository';
import { generateSecret, messageId } from './webhook-signature';
import { WebhookStateRepository } from './webhook-state.repository';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { WebhookJobMap } from './webhook.types';

const config: WebhooksConfig = { maxAttempts: 3, disableAfter: 2, timeoutMs: 1000, backoffMs: 100, concurrency: 1, allowPrivate: true, httpsOnly: false };
const secret = generateSecret();
const webhookStub = {
  enabled: {
    _id: '665000000000000000000001',
    userId: '665000000000000000000009',
    url: 'http://127.0.0.1:9/hook',
    events: ['job.completed'],
    enabled: true,
    failureStreak: 0,
    secret,
    createdAt: new Date(),
    updatedAt: new Date(),
  } as WebhookRecord,
};
const body = JSON.stringify({ type: 'job.completed', timestamp: '2026-11-24T10:00:00.000Z', data: { jobId: 'j1' } });
const deliveryStub: WebhookJobMap['deliver'] = {
  eventId: 'j1:webhook',
  webhookId: webhookStub.enabled._id,
  userId: webhookStub.enabled.userId,
  msgId: messageId('j1:webhook', webhookStub.enabled._id),
  type: 'job.completed',
  body,
};
const answer = (response: Partial<WebhookResponse>): WebhookResponse => ({ latencyMs: 12, ...response });

describe(WebhookDeliveryService.name, () => {
  let sut: WebhookDeliveryService;
  let webhooks: jest.Mocked<WebhookRepository>;
  let log: jest.Mocked<WebhookDeliveryRepository>;
  let state: jest.Mocked<WebhookStateRepository>;
  let queue: jest.Mocked<WebhookQueue>;
  let client: jest.Mocked<WebhookClient>;
  let events: jest.Mocked<PubSubService>;
  let subscriptions: jest.Mocked<WebhookSubscriptions>;

  beforeEach(() => {
    webhooks = strictMock(WebhookRepository);
    log = strictMock(WebhookDeliveryRepository);
    state = strictMock(WebhookStateRepository);
    queue = strictMock(WebhookQueue);
    client = strictMock(WebhookClient);
    events = strictMock(PubSubService);
    subscriptions = strictMock(WebhookSubscriptions);
    webhooks.findById.mockResolvedValue(webhookStub.enabled);
    state.nextLogSeq.mockResolvedValue(1);
    log.record.mockResolvedValue();
    sut = new WebhookDeliveryService(webhooks, log, state, queue, client, events, subscriptions, config);
  });

  describe('fanOut', () => {
    it("queues one delivery per enabled endpoint of the owner subscribed to the type, each with its stable webhook-id", async () => {
      const other = { ...webhookStub.enabled, _id: '665000000000000000000002', events: ['job.failed'] } as WebhookRecord;
      const disabled = { ...webhookStub.enabled, _id: '665000000000000000000003', enabled: false } as WebhookRecord;
      const second = { ...webhookStub.enabled, _id: '665000000000000000000004' } as WebhookRecord;
      webhooks.list.mockResolvedValue([webhookStub.enabled, other, disabled, second]);
      queue.addDelivery.mockResolvedValue();
      await expect(sut.fanOut({ eventId: 'j1:webhook', type: 'job.completed', userId: webhookStub.enabled.userId, body })).resolves.toBe(2);
      expect(webhooks.list).toHaveBeenCalledWith(webhookStub.enabled.userId);
      expect(queue.addDelivery.mock.calls.map(([payload]) => payload)).toEqual([
        { ...deliveryStub },
        { ...deliveryStub, webhookId: second._id, msgId: messageId('j1:webhook', second._id) },
      ]);
    });

    it('adds nothing for an event whose body the worker emptied after fanning it out (a rerun)', async () => {
      await expect(sut.fanOut({ eventId: 'j1:webhook', type: 'job.completed', userId: webhookStub.enabled.userId, body: '' })).resolves.toBe(0);
      expect(webhooks.list).not.toHaveBeenCalled();
    });
  });

  describe('deliver', () => {
    it('sends a body signed with the secret, logs the attempt and resets the streak', async () => {
      client.send.mockResolvedValue(answer({ statusCode: 200, responseBytes: 2 }));
      state.countDelivery.mockResolvedValue({ streak: 0 });
      await expect(sut.deliver(deliveryStub, 1)).resolves.toEqual({ action: 'done' });
      const [request, options] = client.send.mock.calls[0];
      expect(options).toEqual({ timeoutMs: 1000, allowPrivate: true, httpsOnly: false });
      expect(request).toMatchObject({ url: webhookStub.enabled.url, body });
      expect(request.headers['webhook-id']).toBe(deliveryStub.msgId);
      expect(new Webhook(secret).verify(body, request.headers)).toEqual(JSON.parse(body));
      expect(log.record).toHaveBeenCalledWith(webhookStub.enabled._id, 1, expect.objectContaining({ attempt: 1, statusCode: 200, latencyMs: 12, outcome: 'delivered', msgId: deliveryStub.msgId }));
      expect(state.countDelivery).toHaveBeenCalledWith(webhookStub.enabled.userId, webhookStub.enabled._id, deliveryJobId('j1:webhook', webhookStub.enabled._id), true, 2);
    });

    it('retries a 5xx with exponential backoff, without counting the delivery yet', async () => {
      client.send.mockResolvedValue(answer({ statusCode: 500 }));
      await expect(sut.deliver(deliveryStub, 2)).resolves.toEqual({ action: 'retry', delayMs: 200, reason: 'HTTP 500' });
      expect(log.record).toHaveBeenCalledWith(webhookStub.enabled._id, 1, expect.objectContaining({ attempt: 2, statusCode: 500, outcome: 'retrying', error: 'HTTP 500' }));
      expect(state.countDelivery).not.toHaveBeenCalled();
    });

    it("honours a 429's Retry-After, but never retries sooner than the backoff (Retry-After: 0)", async () => {
      client.send.mockResolvedValue(answer({ statusCode: 429, retryAfterMs: 5000 }));
      await expect(sut.deliver(deliveryStub, 1)).resolves.toEqual({ action: 'retry', delayMs: 5000, reason: 'HTTP 429' });
      client.send.mockResolvedValue(answer({ statusCode: 429, retryAfterMs: 0 }));
      await expect(sut.deliver(deliveryStub, 2)).resolves.toEqual({ action: 'retry', delayMs: 200, reason: 'HTTP 429' });
    });

    it('fails the delivery after the last attempt and counts it', async () => {
      client.send.mockResolvedValue(answer({ failure: 'timeout', error: 'no answer within 1000 ms' }));
      state.countDelivery.mockResolvedValue({ streak: 1 });
      await expect(sut.deliver(deliveryStub, 3)).resolves.toEqual({ action: 'fail', reason: 'no answer within 1000 ms' });
      expect(state.countDelivery).toHaveBeenCalledWith(webhookStub.enabled.userId, webhookStub.enabled._id, expect.any(String), false, 2);
    });

    it('fails a 4xx at once (no retry)', async () => {
      client.send.mockResolvedValue(answer({ statusCode: 404 }));
      state.countDelivery.mockResolvedValue({ streak: 1 });
      await expect(sut.deliver(deliveryStub, 1)).resolves.toEqual({ action: 'fail', reason: 'HTTP 404' });
    });

    it('disables the endpoint at the threshold and tells its owner once (by a once-key)', async () => {
      client.send.mockResolvedValue(answer({ statusCode: 410 }));
      state.countDelivery.mockResolvedValue({ streak: 2, disabledMark: '1700000000000' });
      webhooks.disable.mockResolvedValue();
      events.publish.mockResolvedValue();
      subscriptions.changed.mockResolvedValue();
      await sut.deliver(deliveryStub, 1);
      expect(webhooks.disable).toHaveBeenCalledWith(webhookStub.enabled._id, new Date(1_700_000_000_000), 2);
      expect(subscriptions.changed).toHaveBeenCalledWith(webhookStub.enabled.userId);
      expect(events.publish).toHaveBeenCalledWith(
        'webhook_disabled',
        webhookStub.enabled.userId,
        { webhookId: webhookStub.enabled._id, url: webhookStub.enabled.url, reason: '2 deliveries in a row failed' },
        { once: `webhook:${webhookStub.enabled._id}:disabled:1700000000000` },
      );
    });

    it('skips an endpoint disabled since the event with a log entry, and one deleted since silently', async () => {
      webhooks.findById.mockResolvedValueOnce({ ...webhookStub.enabled, enabled: false });
      await expect(sut.deliver(deliveryStub, 1)).resolves.toEqual({ action: 'done' });
      expect(log.record).toHaveBeenCalledWith(webhookStub.enabled._id, 1, expect.objectContaining({ eventId: deliveryStub.eventId, attempt: 1, outcome: 'skipped', error: 'endpoint disabled', latencyMs: 0 }));
      webhooks.findById.mockResolvedValueOnce(undefined);
      await expect(sut.deliver(deliveryStub, 1)).resolves.toEqual({ action: 'done' });
      expect(log.record).toHaveBeenCalledTimes(1);
      expect(client.send).not.toHaveBeenCalled();
      expect(state.countDelivery).not.toHaveBeenCalled();
    });

    it('sends a test ping to a disabled endpoint, once (a 5xx fails it at the first attempt), and never counts it', async () => {
      webhooks.findById.mockResolvedValue({ ...webhookStub.enabled, enabled: false });
      client.send.mockResolvedValue(answer({ statusCode: 500 }));
      await expect(sut.deliver({ ...deliveryStub, type: 'webhook.test' }, 1)).resolves.toEqual({ action: 'fail', reason: 'HTTP 500' });
      expect(log.record).toHaveBeenCalledWith(webhookStub.enabled._id, 1, expect.objectContaining({ outcome: 'failed' }));
      expect(state.countDelivery).not.toHaveBeenCalled();
    });

    it('lets a database outage through before anything is sent (the worker puts the job off)', async () => {
      const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name: 'MongoServerSelectionError' });
      webhooks.findById.mockRejectedValue(outage);
      await expect(sut.deliver(deliveryStub, 1)).rejects.toBe(outage);
      expect(client.send).not.toHaveBeenCalled();
    });

    it('does not send again when the log or the count fails (a lost log line beats a duplicate delivery)', async () => {
      client.send.mockResolvedValue(answer({ statusCode: 200 }));
      log.record.mockRejectedValue(new Error('database down'));
      state.countDelivery.mockRejectedValue(new Error('redis down'));
      await expect(sut.deliver(deliveryStub, 1)).resolves.toEqual({ action: 'done' });
    });

    it('signs with both secrets during the 24 h after a rotation', async () => {
      const previous = generateSecret();
      webhooks.findById.mockResolvedValue({ ...webhookStub.enabled, previousSecret: previous, previousSecretExpiresAt: new Date(Date.now() + 60_000) });
      client.send.mockResolvedValue(answer({ statusCode: 204 }));
      state.countDelivery.mockResolvedValue({ streak: 0 });
      await sut.deliver(deliveryStub, 1);
      const [request] = client.send.mock.calls[0];
      expect(request.headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(new Webhook(secret).verify(body, request.headers)).toBeTruthy();
      expect(new Webhook(previous).verify(body, request.headers)).toBeTruthy();
    });
  });
});
