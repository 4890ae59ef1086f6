import { RealtimeConfig, RedisConfig } from '@app/config';
import { NotificationRepository } from './notification.repository';
import { PubSubConnection } from './pubsub-redis.provider';

const userId = '64b7f0c2a1b2c3d4e5f60718';
const prefix = '{test}';
const realtime: RealtimeConfig = { replayWindowMs: 60_000, maxEventsPerUser: 500, maxMessageBytes: 4096, deltaIntervalMs: 50 };

function fakeRedis() {
  return {
    defineCommand: jest.fn(),
    pubsubAppendAndPublish: jest.fn().mockResolvedValue('1000-0'),
    pubsubAdvanceCursor: jest.fn().mockResolvedValue(1),
    publish: jest.fn().mockResolvedValue(1),
    xrange: jest.fn(),
    get: jest.fn(),
  };
}

describe(NotificationRepository.name, () => {
  let sut: NotificationRepository;
  let redis: ReturnType<typeof fakeRedis>;

  beforeEach(() => {
    jest.useFakeTimers({ now: 10_000_000 });
    redis = fakeRedis();
    sut = new NotificationRepository(redis as unknown as PubSubConnection, { url: 'redis://x', prefix } as RedisConfig, realtime);
  });
  afterEach(() => jest.useRealTimers());

  it('records and publishes in one script, in the user hash tag, with the envelope built around the stream id', async () => {
    const payload = { jobId: 'j', status: 'queued' as const, attempt: 0 };
    expect(await sut.appendAndPublish({ event: 'job_status', userId, payload, correlationId: 'c' })).toBe('1000-0');
    const [key, maxLen, windowMs, channel, event, payloadJson, correlationId, tail] = redis.pubsubAppendAndPublish.mock.calls[0];
    expect([key, maxLen, windowMs, channel, event, correlationId]).toEqual([`test:{u:${userId}}:notifications`, 500, 60_000, `${prefix}:job_status`, 'job_status', 'c']);
    expect(JSON.parse(payloadJson)).toEqual(payload);
    expect(JSON.parse(`{"id":"1000-0",${tail}`)).toEqual({ id: '1000-0', event: 'job_status', userId, payload, correlationId: 'c' });
  });

  it('publishes ephemeral events on the prefixed channel of their name', async () => {
    const envelope = { event: 'job_delta' as const, userId, payload: { jobId: 'j', attempt: 1, delivery: 1, seq: 0, text: 'x' } };
    await sut.publish(envelope);
    expect(redis.publish).toHaveBeenCalledWith(`${prefix}:job_delta`, JSON.stringify(envelope));
  });

  it('reads after an id exclusively, never before the replay window, and skips unreadable entries', async () => {
    redis.xrange.mockResolvedValue([
      ['9990000-0', ['event', 'job_status', 'payload', '{"jobId":"j","status":"processing","attempt":1}', 'cid', '']],
      ['9990001-0', ['event', 'bogus', 'payload', '{}']],
    ]);

    const page = await sut.readAfter(userId, '9950000-3', 2);
    expect(redis.xrange).toHaveBeenLastCalledWith(`test:{u:${userId}}:notifications`, '(9950000-3', '+', 'COUNT', 2);
    expect(page).toEqual({
      events: [{ id: '9990000-0', event: 'job_status', payload: { jobId: 'j', status: 'processing', attempt: 1 } }],
      lastId: '9990001-0',
      complete: false,
    });

    await sut.readAfter(userId, '5-0', 10);
    expect(redis.xrange).toHaveBeenLastCalledWith(`test:{u:${userId}}:notifications`, '9940000-0', '+', 'COUNT', 10);
    await sut.readAfter(userId, undefined, 10);
    expect(redis.xrange).toHaveBeenLastCalledWith(`test:{u:${userId}}:notifications`, '9940000-0', '+', 'COUNT', 10);
  });

  it('keeps the cursor beside the stream, in the user hash tag, expiring with the window', async () => {
    redis.get.mockResolvedValueOnce(null);
    expect(await sut.cursor(userId)).toBeUndefined();
    expect(redis.get).toHaveBeenCalledWith(`test:{u:${userId}}:notifications-cursor`);
    await sut.advanceCursor(userId, '7-0');
    expect(redis.pubsubAdvanceCursor).toHaveBeenCalledWith(`test:{u:${userId}}:notifications-cursor`, '7-0', 60_000);
  });
});
