import { Logger } from '@nestjs/common';
import { strictMock } from '@app/testing';
import { WebhookLimitsRepository } from './webhook-limits.repository';
import { WebhookRecord, WebhookRepository } from './webhook.repository';
import { WebhookSubscriptions } from './webhook-subscriptions.service';

const userId = '665000000000000000000009';
const webhookStub = {
  completed: { _id: '665000000000000000000001', userId, events: ['job.completed'], enabled: true } as WebhookRecord,
  failedDisabled: { _id: '665000000000000000000002', userId, events: ['job.failed'], enabled: false } as WebhookRecord,
  both: { _id: '665000000000000000000003', userId, events: ['job.completed', 'job.cancelled'], enabled: true } as WebhookRecord,
};

describe(WebhookSubscriptions.name, () => {
  let sut: WebhookSubscriptions;
  let webhooks: jest.Mocked<WebhookRepository>;
  let limits: jest.Mocked<WebhookLimitsRepository>;

  beforeEach(() => {
    webhooks = strictMock(WebhookRepository);
    limits = strictMock(WebhookLimitsRepository);
    limits.invalidateEvents.mockResolvedValue(7);
    limits.storeEvents.mockResolvedValue(true);
    sut = new WebhookSubscriptions(webhooks, limits);
  });

  it('answers from the cached set without reading MongoDB', async () => {
    limits.hears.mockResolvedValueOnce('yes').mockResolvedValueOnce('no');
    await expect(sut.hears(userId, 'job.completed')).resolves.toBe(true);
    await expect(sut.hears(userId, 'job.failed')).resolves.toBe(false);
    expect(webhooks.list).not.toHaveBeenCalled();
  });

  it('computes a missing set once from the enabled webhooks and caches it under the version it began with', async () => {
    limits.hears.mockResolvedValue('unknown');
    webhooks.list.mockResolvedValue([webhookStub.completed, webhookStub.failedDisabled, webhookStub.both]);
    await expect(sut.hears(userId, 'job.failed')).resolves.toBe(false);
    expect(limits.storeEvents).toHaveBeenCalledWith(userId, 7, ['job.completed', 'job.cancelled']);
  });

  it('caches an empty answer too (a user without webhooks)', async () => {
    limits.hears.mockResolvedValue('unknown');
    webhooks.list.mockResolvedValue([]);
    await expect(sut.hears(userId, 'job.completed')).resolves.toBe(false);
    expect(limits.storeEvents).toHaveBeenCalledWith(userId, 7, []);
  });

  it('drops the set before a change and recomputes it after; a failed recompute is only logged', async () => {
    await sut.changing(userId);
    expect(limits.invalidateEvents).toHaveBeenCalledWith(userId);
    webhooks.list.mockRejectedValue(new Error('database down'));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await expect(sut.changed(userId)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ userId, error: 'database down' }));
    warn.mockRestore();
  });
});
