import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { WebhookLimitsRepository } from './webhook-limits.repository';

/** Against the real Redis of the test run: slots and the events set must be exact when requests race. */
describe(WebhookLimitsRepository.name, () => {
  let redis: RedisConnection;
  let sut: WebhookLimitsRepository;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}webhook-limits` } as RedisConfig;
  const id = () => randomBytes(12).toString('hex');

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'webhook-limits-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new WebhookLimitsRepository(redis, config);
  });
  afterAll(() => redis.disconnect());

  describe('slots', () => {
    it('gives exactly `cap` of 15 racing takes, and a released slot to the next', async () => {
      const user = id();
      const ids = Array.from({ length: 15 }, id);
      const taken = await Promise.all(ids.map((webhook) => sut.takeSlot(user, webhook, 10, [])));
      expect(taken.filter(Boolean)).toHaveLength(10);
      expect((await sut.slotHolders(user)).sort()).toEqual(ids.filter((_, i) => taken[i]).sort());

      const late = id();
      expect(await sut.takeSlot(user, late, 10, [])).toBe(false);
      await sut.releaseSlots(user, [ids[taken.indexOf(true)]]);
      expect(await sut.takeSlot(user, late, 10, [])).toBe(true);
    });

    it('seeds a new set with the webhooks MongoDB holds, once', async () => {
      const user = id();
      const existing = Array.from({ length: 9 }, id);
      expect(await sut.takeSlot(user, id(), 10, existing)).toBe(true);
      // Seeded already: ids passed again are not added again.
      expect(await sut.takeSlot(user, id(), 10, [id(), id()])).toBe(false);
      expect(await sut.slotHolders(user)).toHaveLength(10);
    });

    it('says yes again to an id that holds a slot', async () => {
      const [user, webhook] = [id(), id()];
      expect(await sut.takeSlot(user, webhook, 1, [])).toBe(true);
      expect(await sut.takeSlot(user, webhook, 1, [])).toBe(true);
    });
  });

  describe('events', () => {
    it('is unknown until computed, then answers from the set (an empty one included)', async () => {
      const user = id();
      expect(await sut.hears(user, 'job.completed')).toBe('unknown');
      expect(await sut.storeEvents(user, await sut.invalidateEvents(user), [])).toBe(true);
      expect(await sut.hears(user, 'job.completed')).toBe('no');
      expect(await sut.storeEvents(user, await sut.invalidateEvents(user), ['job.completed'])).toBe(true);
      expect(await sut.hears(user, 'job.completed')).toBe('yes');
      expect(await sut.hears(user, 'job.failed')).toBe('no');
      expect(await redis.ttl(`${config.prefix.replace(/[{}]/g, '')}:{u:${user}}:webhook-events`)).toBe(-1);
    });

    it('drops a store from a recompute that began before a later one (its read of MongoDB may be stale)', async () => {
      const user = id();
      const early = await sut.invalidateEvents(user);
      const late = await sut.invalidateEvents(user);
      expect(await sut.storeEvents(user, late, ['job.completed'])).toBe(true);
      expect(await sut.storeEvents(user, early, [])).toBe(false);
      expect(await sut.hears(user, 'job.completed')).toBe('yes');
      await sut.invalidateEvents(user);
      expect(await sut.hears(user, 'job.completed')).toBe('unknown');
    });
  });

  it('lets one test ping per interval through and says how long until the next', async () => {
    const [user, webhook] = [id(), id()];
    expect(await sut.claimPing(user, webhook, 10_000)).toBe(0);
    const wait = await sut.claimPing(user, webhook, 10_000);
    expect(wait).toBeGreaterThan(9_000);
    expect(wait).toBeLessThanOrEqual(10_000);
    expect(await sut.claimPing(user, id(), 10_000)).toBe(0);
  });
});
