import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobOutcome } from './job.types';

const failed = (error: string, attempts = 1): JobOutcome => ({ status: 'failed', error, attempts });

/** Against the real Redis of the test run: the Lua scripts are what is under test. */
describe(JobLedgerRepository.name, () => {
  let redis: RedisConnection;
  let sut: JobLedgerRepository;
  const jobId = () => `job-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'ledger-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new JobLedgerRepository(redis, { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}ledger` } as RedisConfig);
  });
  afterAll(() => redis.disconnect());

  it('numbers deliveries and fences every step to the newest one', async () => {
    const id = jobId();
    const first = await sut.begin(id);
    const second = await sut.begin(id);
    expect([first.delivery, second.delivery]).toEqual([1, 2]);
    expect(await sut.startAttempt(id, first.delivery)).toBeUndefined();
    expect(await sut.countVerdict(id, first.delivery, 'failures')).toBeUndefined();
    expect(await sut.settle(id, failed('stale'), first.delivery)).toBeUndefined();
    expect(await sut.startAttempt(id, second.delivery)).toBe(1);
    expect(await sut.countVerdict(id, second.delivery, 'failures')).toBe(1);
    expect(await sut.begin(id)).toMatchObject({ delivery: 3, attempts: 1, failures: 1, pauses: 0, done: false });
  });

  it('keeps the first outcome only, even among many racers, and hands it to the next delivery', async () => {
    const id = jobId();
    await sut.begin(id);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => sut.settle(id, failed(`racer ${i}`))));
    expect(new Set(results.map((outcome) => outcome && outcome.status === 'failed' && outcome.error)).size).toBe(1);
    const next = await sut.begin(id);
    expect(next.outcome).toEqual(results[0]);
    // With an outcome kept, no delivery may start a provider call.
    expect(await sut.startAttempt(id, next.delivery)).toBeUndefined();
  });

  it('lists kept outcomes until they are done, and starts no delivery after that', async () => {
    const id = jobId();
    await sut.begin(id);
    await sut.settle(id, failed('x'));
    expect(await sut.settlingBefore(Date.now() + 1, 1000)).toContain(id);
    await sut.markDone(id);
    expect(await sut.settlingBefore(Date.now() + 1, 1000)).not.toContain(id);
    expect(await sut.begin(id)).toMatchObject({ done: true, delivery: 0 });
  });

  it('remembers when an outage began until a provider call starts', async () => {
    const id = jobId();
    const { delivery } = await sut.begin(id);
    const since = await sut.blockedSince(id);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await sut.blockedSince(id)).toBe(since);
    await sut.startAttempt(id, delivery);
    expect((await sut.begin(id)).blockedSince).toBeUndefined();
  });

  it('forgets the ledgers of deleted jobs, kept outcomes included', async () => {
    const [a, b, missing] = [jobId(), jobId(), jobId()];
    await sut.begin(a);
    await sut.begin(b);
    await sut.settle(b, failed('x'));

    expect(await sut.forget([a, b, missing])).toBe(2);
    expect(await sut.read(a)).toEqual({ done: false, attempts: 0 });
    expect(await sut.settlingBefore(Date.now() + 1, 1000)).not.toContain(b);
    expect(await sut.forget([])).toBe(0);
  });

  it('reopens a done job for a retry once: outcome and verdicts go, deliveries and attempts keep counting', async () => {
    const id = jobId();
    const { delivery } = await sut.begin(id);
    await sut.startAttempt(id, delivery);
    await sut.countVerdict(id, delivery, 'failures');
    await sut.settle(id, failed('provider said no'), delivery);
    expect(await sut.reopen(id)).toBe(false); // kept but not yet stored and announced
    await sut.markDone(id);

    expect(await sut.reopen(id)).toBe(true);
    expect(await sut.reopen(id)).toBe(false); // a racing second retry
    expect(await sut.settlingBefore(Date.now() + 1, 1000)).not.toContain(id);
    const next = await sut.begin(id);
    expect(next).toMatchObject({ delivery: delivery + 1, done: false, attempts: 1, failures: 0, pauses: 0 });
    expect(next.outcome).toBeUndefined();
    expect(await sut.startAttempt(id, next.delivery)).toBe(2);
  });

  it('reopens a job whose ledger is gone (expired, or never queued)', async () => {
    const id = jobId();
    expect(await sut.reopen(id)).toBe(true);
    expect(await sut.reopen(id)).toBe(false);
    expect((await sut.begin(id)).delivery).toBe(1);
  });

  it('keeps a cancel as the outcome with the calls started so far, and stops the delivery that holds the job', async () => {
    const id = jobId();
    const { delivery } = await sut.begin(id);
    await sut.startAttempt(id, delivery);

    expect(await sut.settleCancelled(id)).toEqual({ status: 'cancelled', attempts: 1 });
    expect(await sut.settleCancelled(id)).toEqual({ status: 'cancelled', attempts: 1 });
    expect(await sut.startAttempt(id, delivery)).toBeUndefined();
    expect(await sut.settle(id, failed('too late'), delivery)).toEqual({ status: 'cancelled', attempts: 1 });
    expect(await sut.settlingBefore(Date.now() + 1, 1000)).toContain(id);
    expect((await sut.begin(id)).outcome).toEqual({ status: 'cancelled', attempts: 1 });
  });

  it('cancels a job no worker has begun, and never one whose outcome is decided', async () => {
    const queued = jobId();
    expect(await sut.settleCancelled(queued)).toEqual({ status: 'cancelled', attempts: 0 });
    const finished = jobId();
    await sut.settle(finished, failed('provider said no'));
    expect(await sut.settleCancelled(finished)).toEqual(failed('provider said no'));
  });
});
