import { WebhooksConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { WebhookClient } from './webhook.client';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookLimitsRepository } from './webhook-limits.repository';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { WebhookQueue } from './webhook.queue';
import { WebhookRecord, WebhookRepository } from './webhook.repository';
import { messageId } from './webhook-signature';
import { WebhookStateRepository } from './webhook-state.repository';
import { WebhooksService } from './webhooks.service';

const config: WebhooksConfig = { maxAttempts: 8, disableAfter: 20, timeoutMs: 10_000, backoffMs: 1000, concurrency: 10, allowPrivate: false, httpsOnly: false };
const userId = '665000000000000000000009';
const webhookStub = {
  disabled: {
    _id: '665000000000000000000001',
    userId,
    url: 'https://hooks.test/in',
    events: ['job.completed'],
    enabled: false,
    failureStreak: 20,
    disabledAt: new Date('2026-11-24T10:00:00Z'),
    secret: 'whsec_old',
    createdAt: new Date('2026-11-01T00:00:00Z'),
    updatedAt: new Date('2026-11-24T10:00:00Z'),
  } as WebhookRecord,
};

describe(WebhooksService.name, () => {
  let sut: WebhooksService;
  let webhooks: jest.Mocked<WebhookRepository>;
  let deliveries: jest.Mocked<WebhookDeliveryRepository>;
  let state: jest.Mocked<WebhookStateRepository>;
  let limits: jest.Mocked<WebhookLimitsRepository>;
  let subscriptions: jest.Mocked<WebhookSubscriptions>;
  let queue: jest.Mocked<WebhookQueue>;
  let client: WebhookClient;
  const resolve = jest.fn(async (host: string) => (host === 'hooks.test' ? ['93.184.216.34'] : ['10.0.0.7']));

  beforeEach(() => {
    webhooks = strictMock(WebhookRepository);
    deliveries = strictMock(WebhookDeliveryRepository);
    state = strictMock(WebhookStateRepository);
    limits = strictMock(WebhookLimitsRepository);
    subscriptions = strictMock(WebhookSubscriptions);
    queue = strictMock(WebhookQueue);
    client = new WebhookClient(resolve);
    state.streaks.mockImplementation(async (_user, ids) => ids.map(() => 0));
    subscriptions.changing.mockResolvedValue();
    subscriptions.changed.mockResolvedValue();
    sut = new WebhooksService(webhooks, deliveries, state, limits, subscriptions, queue, client, config);
  });

  describe('create', () => {
    const newId = '665000000000000000000042';
    beforeEach(() => {
      webhooks.newId.mockReturnValue(newId);
      webhooks.list.mockResolvedValue([webhookStub.disabled]);
      webhooks.count.mockResolvedValue(1);
      limits.takeSlot.mockResolvedValue(true);
      limits.releaseSlots.mockResolvedValue();
    });

    it('takes a slot under the new id, stores a fresh whsec_ secret, shows it once and recomputes the event types', async () => {
      webhooks.create.mockImplementation(async (_user, fields, id) => ({ ...webhookStub.disabled, ...fields, _id: id!, enabled: true, failureStreak: 0, disabledAt: undefined }));
      const created = await sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed', 'job.completed', 'job.failed'] });
      expect(created).toMatchObject({ _id: newId, url: 'https://hooks.test/in', events: ['job.completed', 'job.failed'], enabled: true, failureStreak: 0, secret: expect.stringMatching(/^whsec_/) });
      expect(limits.takeSlot).toHaveBeenCalledWith(userId, newId, 10, [webhookStub.disabled._id]);
      expect(webhooks.create).toHaveBeenCalledWith(userId, expect.objectContaining({ secret: created.secret }), newId);
      expect(subscriptions.changing).toHaveBeenCalledWith(userId);
      expect(subscriptions.changed).toHaveBeenCalledWith(userId);
      expect(limits.releaseSlots).not.toHaveBeenCalled();
    });

    it('refuses a host resolving to a private address with INVALID_ARGUMENT naming url (not the address), before taking a slot', async () => {
      await expect(sut.create(userId, { url: 'https://intranet.test/', events: ['job.completed'] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { details: [{ field: 'url', errors: ['url resolves to an address that is not allowed'] }] },
      });
      expect(limits.takeSlot).not.toHaveBeenCalled();
    });

    it('refuses an 11th webhook when no slot is left (409 WEBHOOK_LIMIT_REACHED)', async () => {
      limits.takeSlot.mockResolvedValue(false);
      limits.slotHolders.mockResolvedValue([webhookStub.disabled._id]);
      await expect(sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed'] })).rejects.toMatchObject({ code: 'WEBHOOK_LIMIT_REACHED', details: { limit: 10 } });
      expect(webhooks.create).not.toHaveBeenCalled();
    });

    it('gives back slots of creates that died half-way (ids MongoDB lacks, older than a minute), then takes one', async () => {
      const dead = '000000010000000000000000';
      const fresh = `${Math.floor(Date.now() / 1000).toString(16)}0000000000000000`;
      limits.takeSlot.mockResolvedValueOnce(false).mockResolvedValueOnce(true);
      limits.slotHolders.mockResolvedValue([webhookStub.disabled._id, dead, fresh]);
      webhooks.create.mockResolvedValue({ ...webhookStub.disabled, _id: newId });
      await sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed'] });
      expect(limits.releaseSlots).toHaveBeenCalledWith(userId, [dead]);
      expect(limits.takeSlot).toHaveBeenCalledTimes(2);
    });

    it('keeps the count in MongoDB as a second guard, and gives the slot back when refused or when the insert fails', async () => {
      webhooks.count.mockResolvedValue(10);
      await expect(sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed'] })).rejects.toMatchObject({ code: 'WEBHOOK_LIMIT_REACHED' });
      expect(limits.releaseSlots).toHaveBeenLastCalledWith(userId, [newId]);

      webhooks.count.mockResolvedValue(1);
      webhooks.create.mockRejectedValue(new Error('database down'));
      await expect(sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed'] })).rejects.toThrow('database down');
      expect(limits.releaseSlots).toHaveBeenCalledTimes(2);
    });
  });

  describe('update', () => {
    it('re-enabling resets the streak in Redis and clears disabledAt', async () => {
      webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
      state.resetStreak.mockResolvedValue();
      webhooks.update.mockResolvedValue({ ...webhookStub.disabled, enabled: true, disabledAt: undefined });
      const updated = await sut.update(userId, webhookStub.disabled._id, { enabled: true });
      expect(state.resetStreak).toHaveBeenCalledWith(userId, webhookStub.disabled._id);
      expect(subscriptions.changing).toHaveBeenCalledWith(userId);
      expect(subscriptions.changed).toHaveBeenCalledWith(userId);
      expect(webhooks.update).toHaveBeenCalledWith(webhookStub.disabled._id, { enabled: true, failureStreak: 0 }, ['disabledAt']);
      expect(updated).toMatchObject({ enabled: true, failureStreak: 0 });
      expect(updated.disabledAt).toBeUndefined();
    });

    it("is NOT_FOUND for another user's webhook, and asks for at least one field", async () => {
      webhooks.findOwned.mockResolvedValue(undefined);
      await expect(sut.update(userId, 'x', { description: 'd' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(sut.update(userId, 'x', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });

  it('rotation keeps the old secret signing for 24 h', async () => {
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    webhooks.update.mockImplementation(async (_id, set) => ({ ...webhookStub.disabled, ...set }) as WebhookRecord);
    const before = Date.now();
    const rotated = await sut.rotateSecret(userId, webhookStub.disabled._id);
    const [, set] = webhooks.update.mock.calls[0];
    expect(set).toEqual({ secret: rotated.secret, previousSecret: 'whsec_old', previousSecretExpiresAt: expect.any(Date) });
    expect((set.previousSecretExpiresAt as Date).getTime() - before).toBeGreaterThanOrEqual(24 * 3600 * 1000);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe('whsec_old');
    expect(rotated).not.toHaveProperty('previousSecret');
  });

  it('a test ping goes to that endpoint only, once (one attempt), with its own stable webhook-id', async () => {
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    limits.claimPing.mockResolvedValue(0);
    queue.addDelivery.mockResolvedValue();
    const { eventId, msgId } = await sut.test(userId, webhookStub.disabled._id);
    expect(msgId).toBe(messageId(eventId, webhookStub.disabled._id));
    expect(limits.claimPing).toHaveBeenCalledWith(userId, webhookStub.disabled._id, 10_000);
    expect(queue.addDelivery).toHaveBeenCalledWith(expect.objectContaining({ eventId, msgId, webhookId: webhookStub.disabled._id, userId, type: 'webhook.test' }), 1);
    expect(JSON.parse(queue.addDelivery.mock.calls[0][0].body)).toEqual({ type: 'webhook.test', timestamp: expect.any(String), data: { webhookId: webhookStub.disabled._id, url: 'https://hooks.test/in' } });
  });

  it('refuses a second test ping within 10 s with RATE_LIMITED and its Retry-After, queueing nothing', async () => {
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    limits.claimPing.mockResolvedValue(7_200);
    await expect(sut.test(userId, webhookStub.disabled._id)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 8, limit: 1, remaining: 0 } });
    expect(queue.addDelivery).not.toHaveBeenCalled();
  });

  it('removing a webhook also drops its log, its Redis state and its slot, and recomputes the event types', async () => {
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    webhooks.delete.mockResolvedValue(true);
    deliveries.deleteFor.mockResolvedValue();
    state.forget.mockResolvedValue();
    limits.releaseSlots.mockResolvedValue();
    await expect(sut.remove(userId, webhookStub.disabled._id)).resolves.toEqual({ id: webhookStub.disabled._id });
    expect(deliveries.deleteFor).toHaveBeenCalledWith(webhookStub.disabled._id);
    expect(state.forget).toHaveBeenCalledWith(userId, webhookStub.disabled._id);
    expect(limits.releaseSlots).toHaveBeenCalledWith(userId, [webhookStub.disabled._id]);
    expect(subscriptions.changing.mock.invocationCallOrder[0]).toBeLessThan(webhooks.delete.mock.invocationCallOrder[0]);
    expect(subscriptions.changed.mock.invocationCallOrder[0]).toBeGreaterThan(webhooks.delete.mock.invocationCallOrder[0]);
  });

  it('removes every webhook of a user (account deletion)', async () => {
    webhooks.list.mockResolvedValue([webhookStub.disabled]);
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    webhooks.delete.mockResolvedValue(true);
    deliveries.deleteFor.mockResolvedValue();
    state.forget.mockResolvedValue();
    limits.releaseSlots.mockResolvedValue();
    await expect(sut.removeAllOf(userId)).resolves.toBe(1);
    expect(webhooks.delete).toHaveBeenCalledWith(webhookStub.disabled._id);
  });
});
