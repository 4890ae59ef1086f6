import { strictMock } from '@app/testing';
import { WebhookEventsService } from './webhook-events.service';
import { WebhookQueue } from './webhook.queue';
import { WebhookSubscriptions } from './webhook-subscriptions.service';

const userId = '665000000000000000000009';

describe(WebhookEventsService.name, () => {
  let sut: WebhookEventsService;
  let queue: jest.Mocked<WebhookQueue>;
  let subscriptions: jest.Mocked<WebhookSubscriptions>;

  beforeEach(() => {
    queue = strictMock(WebhookQueue);
    subscriptions = strictMock(WebhookSubscriptions);
    sut = new WebhookEventsService(queue, subscriptions);
  });

  it('queues an event one of the owner’s enabled webhooks hears, as { type, timestamp, data }', async () => {
    subscriptions.hears.mockResolvedValue(true);
    queue.addEvent.mockResolvedValue();
    await sut.emit({ id: 'j1:webhook', type: 'job.completed', userId, data: { jobId: 'j1' }, timestamp: new Date('2026-11-24T10:00:00Z') });
    expect(subscriptions.hears).toHaveBeenCalledWith(userId, 'job.completed');
    expect(queue.addEvent).toHaveBeenCalledWith({ eventId: 'j1:webhook', type: 'job.completed', userId, body: JSON.stringify({ type: 'job.completed', timestamp: '2026-11-24T10:00:00.000Z', data: { jobId: 'j1' } }) });
  });

  it('queues nothing when no enabled webhook of the owner hears the type', async () => {
    subscriptions.hears.mockResolvedValue(false);
    await sut.emit({ id: 'j1:webhook', type: 'job.failed', userId, data: {} });
    expect(queue.addEvent).not.toHaveBeenCalled();
  });
});
