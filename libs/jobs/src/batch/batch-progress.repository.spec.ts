import { randomUUID } from 'node:crypto';
import { createRedisClient, RedisConnection } from '@app/common';
import { RedisConfig } from '@app/config';
import { BATCH_PROGRESS_INTERVAL_MS, BatchProgressRepository, BatchStep } from './batch-progress.repository';

/** Against the real Redis of the test run: each end must count once under real concurrency. */
describe(BatchProgressRepository.name, () => {
  let redis: RedisConnection;
  let sut: BatchProgressRepository;
  const config = { url: '', prefix: `${process.env.TEST_REDIS_PREFIX}batch-progress` } as RedisConfig;

  beforeAll(async () => {
    redis = createRedisClient({ url: process.env.TEST_REDIS_URL! }, 'batch-progress-spec');
    await new Promise((resolve) => redis.once('ready', resolve));
    sut = new BatchProgressRepository(redis, config);
  });
  afterAll(() => redis.disconnect());

  const startBatch = async (size: number) => {
    const batchId = randomUUID();
    const jobIds = Array.from({ length: size }, (_, i) => `${batchId}-job-${i}`);
    await sut.start(batchId, 'user-1', jobIds);
    return { batchId, jobIds };
  };

  it('counts each job once however often its end is reported, and decides completed when the last one ends', async () => {
    const { batchId, jobIds } = await startBatch(20);
    // Every job reported 5 times at once (finisher, redelivery, reconciler...), all within one throttle window.
    const steps = await Promise.all(jobIds.flatMap((jobId, i) => Array.from({ length: 5 }, () => sut.countEnd(batchId, jobId, i % 4 === 0 ? 'failed' : 'completed', 1_000_000))));

    const completed = steps.filter((step): step is Extract<BatchStep, { kind: 'completed' }> => step.kind === 'completed');
    // The last job's first report and its repeats: the event's once-key keeps the announcement single.
    expect(completed.length).toBeGreaterThanOrEqual(1);
    expect(completed.length).toBeLessThanOrEqual(5);
    for (const step of completed) expect(step.ended).toEqual({ total: 20, completed: 15, failed: 5, cancelled: 0 });
    expect(steps.filter((step) => step.kind === 'progress')).toHaveLength(1);
    expect(await sut.counts(batchId)).toEqual({ queued: 0, processing: 0, completed: 15, failed: 5, cancelled: 0 });
  });

  it('sends batch_progress at most once per interval and owes a throttled one until it is flushed', async () => {
    const { batchId, jobIds } = await startBatch(4);
    const t0 = 5_000_000;

    expect((await sut.countEnd(batchId, jobIds[0], 'completed', t0)).kind).toBe('progress');
    expect(await sut.countEnd(batchId, jobIds[1], 'cancelled', t0 + 100)).toEqual({ kind: 'throttled', dueAt: t0 + BATCH_PROGRESS_INTERVAL_MS });
    expect(await sut.flush(batchId, t0 + 200)).toEqual({ kind: 'throttled', dueAt: t0 + BATCH_PROGRESS_INTERVAL_MS });
    expect(await sut.flush(batchId, t0 + BATCH_PROGRESS_INTERVAL_MS)).toEqual({ kind: 'progress', ended: { total: 4, completed: 1, failed: 0, cancelled: 1 } });
    // Nothing owed any more.
    expect(await sut.flush(batchId, t0 + 2000)).toEqual({ kind: 'none' });
    expect((await sut.countEnd(batchId, jobIds[2], 'completed', t0 + BATCH_PROGRESS_INTERVAL_MS + 100)).kind).toBe('throttled');
    // The last end completes the batch; the owed progress is dropped (batch_completed carries the counts).
    expect((await sut.countEnd(batchId, jobIds[3], 'completed', t0 + BATCH_PROGRESS_INTERVAL_MS + 200)).kind).toBe('completed');
    expect(await sut.flush(batchId, t0 + 10_000)).toEqual({ kind: 'none' });
  });

  it('keeps the rate at two a second when many ends arrive over time', async () => {
    const { batchId, jobIds } = await startBatch(100);
    const sent: number[] = [];
    for (const [i, jobId] of jobIds.slice(0, 99).entries()) {
      const now = 9_000_000 + i * 37;
      if ((await sut.countEnd(batchId, jobId, 'completed', now)).kind === 'progress') sent.push(now);
    }
    for (let i = 1; i < sent.length; i++) expect(sent[i] - sent[i - 1]).toBeGreaterThanOrEqual(BATCH_PROGRESS_INTERVAL_MS);
    expect(sent.length).toBeGreaterThanOrEqual(7);
  });

  it('counts jobs handed to a worker without an outcome as processing', async () => {
    const { batchId, jobIds } = await startBatch(3);
    await redis.hset(`${config.prefix}:job:${jobIds[0]}`, 'delivery', '1');
    await redis.hset(`${config.prefix}:job:${jobIds[1]}`, 'delivery', '1', 'outcome', '{}');
    await sut.countEnd(batchId, jobIds[1], 'completed');

    expect(await sut.counts(batchId)).toEqual({ queued: 1, processing: 1, completed: 1, failed: 0, cancelled: 0 });
    await redis.del(`${config.prefix}:job:${jobIds[0]}`, `${config.prefix}:job:${jobIds[1]}`);
  });

  it('ignores ends of a batch it does not hold, and forgets one', async () => {
    const { batchId, jobIds } = await startBatch(2);
    await sut.forget(batchId);

    expect(await sut.countEnd(batchId, jobIds[0], 'completed')).toEqual({ kind: 'none' });
    expect(await sut.counts(batchId)).toBeUndefined();
  });
});
