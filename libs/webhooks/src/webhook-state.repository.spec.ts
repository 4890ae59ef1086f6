import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { WebhookStateRepository } from './webhook-state.repository';

/** Against the real Redis of the test run: the streak must be right when deliveries finish at once. */
describe(WebhookStateRepository.name, () => {
  let redis: RedisConnection;
  let sut: WebhookStateRepository;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}webhook-state` } as RedisConfig;
  const id = () => randomBytes(12).toString('hex');

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'webhook-state-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new WebhookStateRepository(redis, config);
  });
  afterAll(() => redis.disconnect());

  it('counts 50 concurrent failed deliveries exactly, and marks the disable once at the threshold', async () => {
    const [user, webhook] = [id(), id()];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => sut.countDelivery(user, webhook, `d${i}`, false, 20, 1000 + i)));
    expect(results.map((result) => result.streak).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const marks = new Set(results.filter((result) => result.disabledMark).map((result) => result.disabledMark));
    expect(marks.size).toBe(1);
    expect(results.filter((result) => result.disabledMark)).toHaveLength(31);
    expect(results.filter((result) => result.streak < 20).every((result) => !result.disabledMark)).toBe(true);
  });

  it('counts one delivery once however often it is reported', async () => {
    const [user, webhook] = [id(), id()];
    await Promise.all([sut.countDelivery(user, webhook, 'd1', false, 3), sut.countDelivery(user, webhook, 'd1', false, 3), sut.countDelivery(user, webhook, 'd1', false, 3)]);
    expect(await sut.countDelivery(user, webhook, 'd2', false, 3)).toEqual({ streak: 2, disabledMark: undefined });
  });

  it('resets the streak on a success and on a re-enable', async () => {
    const [user, webhook] = [id(), id()];
    await sut.countDelivery(user, webhook, 'd1', false, 2);
    expect(await sut.countDelivery(user, webhook, 'd2', false, 2, 5000)).toEqual({ streak: 2, disabledMark: '5000' });
    expect(await sut.countDelivery(user, webhook, 'd3', true, 2)).toEqual({ streak: 0, disabledMark: undefined });
    await sut.countDelivery(user, webhook, 'd4', false, 2);
    await sut.countDelivery(user, webhook, 'd5', false, 2, 6000);
    await sut.resetStreak(user, webhook);
    expect(await sut.countDelivery(user, webhook, 'd6', false, 2)).toEqual({ streak: 1, disabledMark: undefined });
  });

  it('numbers log writes per webhook', async () => {
    const [user, webhook] = [id(), id()];
    const seqs = await Promise.all(Array.from({ length: 10 }, () => sut.nextLogSeq(user, webhook)));
    expect(seqs.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
