import { WebhooksConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { WebhookClient } from './webhook.client';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
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
  let queue: jest.Mocked<WebhookQueue>;
  let client: WebhookClient;
  const resolve = jest.fn(async (host: string) => (host === 'hooks.test' ? ['93.184.216.34'] : ['10.0.0.7']));

  beforeEach(() => {
    webhooks = strictMock(WebhookRepository);
    deliveries = strictMock(WebhookDeliveryRepository);
    state = strictMock(WebhookStateRepository);
    queue = strictMock(WebhookQueue);
    client = new WebhookClient(resolve);
    state.streaks.mockImplementation(async (_user, ids) => ids.map(() => 0));
    sut = new WebhooksService(webhooks, deliveries, state, queue, client, config);
  });

  describe('create', () => {
    it('stores a fresh whsec_ secret and shows it once', async () => {
      webhooks.count.mockResolvedValue(0);
      webhooks.create.mockImplementation(async (_user, fields) => ({ ...webhookStub.disabled, ...fields, enabled: true, failureStreak: 0, disabledAt: undefined }));
      const created = await sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed', 'job.completed', 'job.failed'] });
      expect(created).toMatchObject({ url: 'https://hooks.test/in', events: ['job.completed', 'job.failed'], enabled: true, failureStreak: 0, secret: expect.stringMatching(/^whsec_/) });
      expect(webhooks.create).toHaveBeenCalledWith(userId, expect.objectContaining({ secret: created.secret }));
    });

    it('refuses a host resolving to a private address with INVALID_ARGUMENT naming url, before counting', async () => {
      await expect(sut.create(userId, { url: 'https://intranet.test/', events: ['job.completed'] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { details: [{ field: 'url', errors: ['url resolves to a private address (10.0.0.7), which webhooks may not reach'] }] },
      });
      expect(webhooks.count).not.toHaveBeenCalled();
    });

    it('refuses an 11th webhook', async () => {
      webhooks.count.mockResolvedValue(10);
      await expect(sut.create(userId, { url: 'https://hooks.test/in', events: ['job.completed'] })).rejects.toMatchObject({ code: 'WEBHOOK_LIMIT_REACHED', details: { limit: 10 } });
      expect(webhooks.create).not.toHaveBeenCalled();
    });
  });

  describe('update', () => {
    it('re-enabling resets the streak in Redis and clears disabledAt', async () => {
      webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
      state.resetStreak.mockResolvedValue();
      webhooks.update.mockResolvedValue({ ...webhookStub.disabled, enabled: true, disabledAt: undefined });
      const updated = await sut.update(userId, webhookStub.disabled._id, { enabled: true });
      expect(state.resetStreak).toHaveBeenCalledWith(userId, webhookStub.disabled._id);
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

  it('a test ping goes to that endpoint only, with its own stable webhook-id', async () => {
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    queue.addDelivery.mockResolvedValue();
    const { eventId, msgId } = await sut.test(userId, webhookStub.disabled._id);
    expect(msgId).toBe(messageId(eventId, webhookStub.disabled._id));
    expect(queue.addDelivery).toHaveBeenCalledWith(expect.objectContaining({ eventId, msgId, webhookId: webhookStub.disabled._id, userId, type: 'webhook.test' }));
    expect(JSON.parse(queue.addDelivery.mock.calls[0][0].body)).toEqual({ type: 'webhook.test', timestamp: expect.any(String), data: { webhookId: webhookStub.disabled._id, url: 'https://hooks.test/in' } });
  });

  it('removing a webhook also drops its log and its Redis state', async () => {
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    webhooks.delete.mockResolvedValue(true);
    deliveries.deleteFor.mockResolvedValue();
    state.forget.mockResolvedValue();
    await expect(sut.remove(userId, webhookStub.disabled._id)).resolves.toEqual({ id: webhookStub.disabled._id });
    expect(deliveries.deleteFor).toHaveBeenCalledWith(webhookStub.disabled._id);
    expect(state.forget).toHaveBeenCalledWith(userId, webhookStub.disabled._id);
  });

  it('removes every webhook of a user (account deletion)', async () => {
    webhooks.list.mockResolvedValue([webhookStub.disabled]);
    webhooks.findOwned.mockResolvedValue(webhookStub.disabled);
    webhooks.delete.mockResolvedValue(true);
    deliveries.deleteFor.mockResolvedValue();
    state.forget.mockResolvedValue();
    await expect(sut.removeAllOf(userId)).resolves.toBe(1);
    expect(webhooks.delete).toHaveBeenCalledWith(webhookStub.disabled._id);
  });
});
