import { ClientEventName, PubSubEnvelope, StoredNotification } from './client-events';
import { ClientSessionsService } from './client-sessions.service';
import { NotificationsService } from './notifications.service';
import { PubSubListener, PubSubSubscriber } from './pubsub-subscriber.service';
import { RedisConnection } from '@app/common';
import { RealtimeConfig, RedisConfig } from '@app/config';
import { strictMock } from '@app/testing';

const userId = '64b7f0c2a1b2c3d4e5f60718';
const otherUserId = '64b7f0c2a1b2c3d4e5f60719';

const eventStub = {
  completed: (id: string, owner = userId): StoredNotification => ({
    id,
    event: 'job_completed',
    payload: { userId: owner, jobId: `job-${id}`, status: 'completed', completedAt: '2026-01-01T00:00:00.000Z' },
  }),
};
const live = (event: StoredNotification, owner = userId): PubSubEnvelope => ({ ...event, userId: owner });

function fakeSubscriber(): jest.Mocked<PubSubSubscriber> & { listener?: PubSubListener } {
  const subscriber = {
    listener: undefined as PubSubListener | undefined,
    listen: jest.fn((listener: PubSubListener) => void (subscriber.listener = listener)),
    ready: jest.fn(() => Promise.resolve()),
    sync: jest.fn(() => Promise.resolve()),
    stop: jest.fn(),
  };
  return subscriber as unknown as jest.Mocked<PubSubSubscriber> & { listener?: PubSubListener };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe(ClientSessionsService.name, () => {
  let sut: ClientSessionsService;
  let notifications: jest.Mocked<NotificationsService>;
  let subscriber: ReturnType<typeof fakeSubscriber>;
  let sent: { event: ClientEventName; clientId: string; id?: string }[];
  const sender = { clientSend: (event: ClientEventName, clientId: string, _payload: unknown, meta?: { id: string }) => void sent.push({ event, clientId, id: meta?.id }) };

  beforeEach(() => {
    notifications = strictMock(NotificationsService);
    subscriber = fakeSubscriber();
    sent = [];
    sut = new ClientSessionsService(subscriber, notifications, {} as RedisConnection, { prefix: '{test}' } as RedisConfig, { maxSocketsPerUser: 0 } as RealtimeConfig);
    sut.start(sender);
  });

  it('subscribes once, and opens no session before it has', () => {
    expect(() => sut.start(sender)).toThrow(/already started/);
    expect(subscriber.listen).toHaveBeenCalledTimes(1);
    expect(subscriber.listen).toHaveBeenCalledWith(sut);
    expect(() => new ClientSessionsService(subscriber, notifications, {} as RedisConnection, { prefix: '{test}' } as RedisConfig, { maxSocketsPerUser: 0 } as RealtimeConfig).open(userId, 'socket-1')).toThrow(/not started/);
  });

  it('replays the missed completions of a client without lastEventId, then delivers live events of its user only', async () => {
    notifications.missed.mockResolvedValueOnce({ events: [eventStub.completed('5-0')], lastId: '6-0' });
    sut.open(userId, 'socket-1');
    await flush();

    subscriber.listener!.onPubSubMessage(live(eventStub.completed('7-0')));
    subscriber.listener!.onPubSubMessage(live(eventStub.completed('8-0', otherUserId), otherUserId));

    expect(notifications.missed).toHaveBeenCalledWith(userId, { onlyCompleted: true });
    expect(subscriber.sync).toHaveBeenCalled();
    expect(sent).toEqual([
      { event: 'job_completed', clientId: 'socket-1', id: '5-0' },
      { event: 'job_completed', clientId: 'socket-1', id: '7-0' },
    ]);
  });

  it('replays everything after lastEventId, and ignores one from the future', async () => {
    notifications.missed.mockResolvedValue({ events: [], lastId: undefined });
    sut.open(userId, 'socket-1', { lastEventId: '3-0' });
    sut.open(userId, 'socket-2', { lastEventId: `${Date.now() + 3_600_000}-0` });
    await flush();
    expect(notifications.missed.mock.calls).toEqual([
      [userId, { after: '3-0', onlyCompleted: false }],
      [userId, { onlyCompleted: true }],
    ]);
  });

  it('saves the cursor when a client leaves, and reads after it is saved when a client of that user comes back', async () => {
    notifications.missed.mockResolvedValueOnce({ events: [eventStub.completed('5-0')], lastId: '5-0' });
    const session = sut.open(userId, 'socket-1');
    await flush();
    let saved!: () => void;
    notifications.rememberDelivered.mockReturnValueOnce(new Promise<void>((resolve) => (saved = resolve)));

    sut.close(session);
    notifications.missed.mockResolvedValueOnce({ events: [], lastId: undefined });
    sut.open(userId, 'socket-2');
    await flush();
    expect(notifications.rememberDelivered).toHaveBeenCalledWith(userId, '5-0');
    expect(notifications.missed).toHaveBeenCalledTimes(1);

    saved();
    await flush();
    expect(notifications.missed).toHaveBeenCalledTimes(2);
    expect(sut.sessionCount(userId)).toBe(1);
  });

  it('retries a replay that failed, holding live events back meanwhile', async () => {
    jest.useFakeTimers();
    try {
      notifications.missed.mockRejectedValueOnce(new Error('Connection is closed.')).mockResolvedValueOnce({ events: [eventStub.completed('5-0')], lastId: '5-0' });
      sut.open(userId, 'socket-1');
      await jest.advanceTimersByTimeAsync(0);
      subscriber.listener!.onPubSubMessage(live(eventStub.completed('6-0')));
      expect(sent).toEqual([]);

      await jest.advanceTimersByTimeAsync(500);
      expect(sent.map((entry) => entry.id)).toEqual(['5-0', '6-0']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('catches every session up again from its last id after the subscription was lost', async () => {
    notifications.missed.mockResolvedValueOnce({ events: [eventStub.completed('5-0')], lastId: '5-0' });
    sut.open(userId, 'socket-1');
    await flush();

    notifications.missed.mockResolvedValueOnce({ events: [eventStub.completed('6-0')], lastId: '6-0' });
    subscriber.listener!.onPubSubResubscribed();
    await flush();

    expect(notifications.missed).toHaveBeenLastCalledWith(userId, { after: '5-0', onlyCompleted: false });
    expect(sent.map((entry) => entry.id)).toEqual(['5-0', '6-0']);
  });

  it('stops delivery and saves every cursor before shutdown', async () => {
    notifications.missed.mockResolvedValueOnce({ events: [eventStub.completed('5-0')], lastId: '5-0' });
    sut.open(userId, 'socket-1');
    await flush();
    notifications.rememberDelivered.mockResolvedValueOnce(undefined);

    await sut.beforeApplicationShutdown();

    expect(subscriber.stop).toHaveBeenCalled();
    expect(notifications.rememberDelivered).toHaveBeenCalledWith(userId, '5-0');
    expect(sut.sessionCount()).toBe(0);
  });
});
