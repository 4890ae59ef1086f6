import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createRedisClient, RedisClient, untaggedPrefix } from '@app/common';
import { RealtimeConfig, RedisConfig } from '@app/config';
import { JobCompletedEvent } from './client-events';
import { NotificationRepository } from './notification.repository';
import { pubsubKeys } from './pubsub-keys';
import { createSubscriberConnection, PubSubConnection } from './pubsub-redis.provider';

const userId = '64b7f0c2a1b2c3d4e5f60718';
const prefix = '{test}';
const realtime: RealtimeConfig = { replayWindowMs: 60_000, maxEventsPerUser: 500, maxMessageBytes: 4096, deltaIntervalMs: 50, maxSocketsPerUser: 20 };

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

/** The arguments the repository hands its scripts, with a stand-in connection. */
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

/** Against the real Redis of the test run: the Lua scripts (record + publish, trims, cursor) are what is under test. */
describe(`${NotificationRepository.name} scripts`, () => {
  const windowMs = 60_000;
  const livePrefix = `${process.env.TEST_REDIS_PREFIX}:notification-spec`;
  let redis: RedisClient;
  const newUserId = () => randomBytes(12).toString('hex');
  const repositoryWith = (config: Partial<RealtimeConfig> = {}) =>
    new NotificationRepository(redis, { url: '', prefix: livePrefix } as RedisConfig, { ...realtime, replayWindowMs: windowMs, ...config });
  const completedFor = (owner: string, jobId: string): JobCompletedEvent => ({ userId: owner, jobId, status: 'completed', completedAt: '2026-01-01T00:00:00.000Z' });
  const record = (sut: NotificationRepository, owner: string, jobId: string) =>
    sut.appendAndPublish({ event: 'job_completed', userId: owner, payload: completedFor(owner, jobId) }) as Promise<string>;

  /** Approximate trims (`~`) drop whole stream nodes only; a node holds at most this many entries. */
  async function streamNodeMaxEntries(): Promise<number> {
    const reply = (await (redis as Redis).config('GET', 'stream-node-max-entries').catch(() => [])) as string[];
    return Number(reply[1] ?? 100);
  }

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'notification-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    const keys = await (redis as Redis).keys(`${untaggedPrefix(livePrefix)}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('records the event and publishes it with its stream id, as one envelope', async () => {
    const owner = newUserId();
    const subscriber = createSubscriberConnection({ url: process.env.TEST_REDIS_URL! }, 'notification-spec-subscriber');
    try {
      const channel = pubsubKeys.channel(livePrefix, 'job_completed');
      await subscriber.subscribe(channel);
      const received = new Promise<string>((resolve) => subscriber.once('message', (_channel: string, message: string) => resolve(message)));

      const id = await repositoryWith().appendAndPublish({ event: 'job_completed', userId: owner, payload: completedFor(owner, 'job-1'), correlationId: 'corr-1' });

      expect(JSON.parse(await received)).toEqual({ id, event: 'job_completed', userId: owner, payload: completedFor(owner, 'job-1'), correlationId: 'corr-1' });
      expect((await repositoryWith().readAfter(owner, undefined, 10)).events).toEqual([{ id, event: 'job_completed', payload: completedFor(owner, 'job-1') }]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('trims the log by count (NOTIFICATIONS_MAX_PER_USER), keeping the newest', async () => {
    const owner = newUserId();
    const maxEventsPerUser = 10;
    const sut = repositoryWith({ maxEventsPerUser });
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) ids.push(await record(sut, owner, `job-${i}`));

    const length = await redis.xlen(pubsubKeys.stream(livePrefix, owner));
    expect(length).toBeGreaterThanOrEqual(maxEventsPerUser);
    expect(length).toBeLessThanOrEqual(maxEventsPerUser + (await streamNodeMaxEntries()));
    const kept = (await sut.readAfter(owner, undefined, 1000)).events.map((event) => event.id);
    expect(kept).toEqual(ids.slice(-length));
  });

  it('trims the log by age (NOTIFICATIONS_REPLAY_WINDOW_MS) and expires it with the window', async () => {
    const owner = newUserId();
    const stream = pubsubKeys.stream(livePrefix, owner);
    const longAgo = Date.now() - 10 * windowMs;
    const old = 150;
    for (let i = 0; i < old; i++) await redis.xadd(stream, `${longAgo}-${i}`, 'event', 'job_completed', 'payload', JSON.stringify(completedFor(owner, `old-${i}`)), 'cid', '');

    const sut = repositoryWith();
    const id = await record(sut, owner, 'new');

    // Whole nodes of old entries are gone; the node the new entry shares may keep a few, which reads skip.
    expect(await redis.xlen(stream)).toBeLessThan(old + 1);
    expect((await sut.readAfter(owner, undefined, 1000)).events.map((event) => event.id)).toEqual([id]);
    const ttl = await redis.pttl(stream);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(windowMs);
  });

  it('announces an event at most once per once-key', async () => {
    const owner = newUserId();
    const sut = repositoryWith();
    const envelope = { event: 'job_completed' as const, userId: owner, payload: completedFor(owner, 'job-1') };
    expect(await sut.appendAndPublish(envelope, 'job-1:job_completed')).toMatch(/^\d+-\d+$/);
    expect(await sut.appendAndPublish(envelope, 'job-1:job_completed')).toBeUndefined();
    expect(await redis.xlen(pubsubKeys.stream(livePrefix, owner))).toBe(1);
  });

  it('announces an event only while its unless-key is unused (processing never after cancelled)', async () => {
    const owner = newUserId();
    const sut = repositoryWith();
    const processing = { event: 'job_status' as const, userId: owner, payload: { jobId: 'job-1', status: 'processing' as const, attempt: 1 } };
    const cancelled = { event: 'job_status' as const, userId: owner, payload: { jobId: 'job-1', status: 'cancelled' as const, attempt: 1 } };
    expect(await sut.appendAndPublish(processing, undefined, 'job-1:status:cancelled')).toMatch(/^\d+-\d+$/);
    expect(await sut.appendAndPublish(cancelled, 'job-1:status:cancelled')).toMatch(/^\d+-\d+$/);
    expect(await sut.appendAndPublish(processing, undefined, 'job-1:status:cancelled')).toBeUndefined();
    expect(await redis.xlen(pubsubKeys.stream(livePrefix, owner))).toBe(2);
  });

  it('moves the cursor forward only, comparing ids as numbers, and keeps it for the window', async () => {
    const owner = newUserId();
    const sut = repositoryWith();
    const key = pubsubKeys.cursor(livePrefix, owner);
    const moves: [string, string][] = [
      ['5-0', '5-0'],
      ['3-0', '5-0'],
      ['5-0', '5-0'],
      ['5-1', '5-1'],
      ['10-0', '10-0'],
      ['9-99', '10-0'],
    ];
    for (const [to, expected] of moves) {
      await sut.advanceCursor(owner, to);
      expect(await sut.cursor(owner)).toBe(expected);
    }

    // A refused move still keeps the cursor alive for another window.
    await redis.pexpire(key, 1000);
    await sut.advanceCursor(owner, '1-0');
    expect(await redis.pttl(key)).toBeGreaterThan(1000);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(windowMs);
  });
});
