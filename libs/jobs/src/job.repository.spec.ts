import { collect } from '@app/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import mongoose, { Connection, Model } from 'mongoose';
import { JobRepository, NewJob } from './job.repository';
import { Job, JobSchema } from './job.schema';
import { JobResult } from './job.types';

// Against the suite's real FerretDB: the conditional updates are the point, and a mock would only echo them.
describe(JobRepository.name, () => {
  let connection: Connection;
  let sut: JobRepository;
  const userId = randomBytes(12).toString('hex');
  const result: JobResult = {
    generatedContent: 'The text',
    provider: 'offline',
    model: 'offline',
    usage: { promptTokens: 3, completionTokens: 5, totalTokens: 8 },
    durationMs: 12,
    finishReason: 'stop',
  };

  const newJob = (overrides: Partial<NewJob> = {}): NewJob => {
    const jobId = randomUUID();
    return {
      jobId,
      userId,
      prompt: 'A prompt',
      contentType: 'Blog Post Outline',
      scheduledFor: new Date(),
      idempotencyKey: `none:${jobId}`,
      correlationId: `corr-${jobId}`,
      ...overrides,
    };
  };
  const created = async (overrides: Partial<NewJob> = {}): Promise<string> => (await sut.create(newJob(overrides)))!.jobId;

  beforeAll(async () => {
    // A database of this spec's own on the FerretDB that jest's global setup started.
    connection = await mongoose.createConnection(`${process.env.TEST_MONGO_URI}/job_repository_${randomBytes(3).toString('hex')}`).asPromise();
    const jobs = connection.model(Job.name, JobSchema) as unknown as Model<Job>;
    await jobs.init();
    sut = new JobRepository(jobs);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  describe('create', () => {
    it('returns the job as the API shows it, without internal fields', async () => {
      const job = newJob();

      const view = await sut.create(job);

      expect(view).toMatchObject({ _id: job.jobId, jobId: job.jobId, userId, status: 'queued', attempts: 0, prompt: 'A prompt' });
      expect(view).not.toHaveProperty('idempotencyKey');
      expect(view).not.toHaveProperty('correlationId');
    });

    it('answers undefined when the idempotency key is taken, and keeps the first job', async () => {
      const first = await created({ idempotencyKey: `${userId}:retry-1` });

      expect(await sut.create(newJob({ idempotencyKey: `${userId}:retry-1` }))).toBeUndefined();
      expect((await sut.findByIdempotencyKey(`${userId}:retry-1`))?.jobId).toBe(first);
    });
  });

  describe('reads', () => {
    it("finds the caller's job and hides another user's", async () => {
      const jobId = await created();

      expect((await sut.findOwned(userId, jobId))?.jobId).toBe(jobId);
      expect(await sut.findOwned(randomBytes(12).toString('hex'), jobId)).toBeUndefined();
      expect(await sut.findOwned(userId, { $ne: null } as never)).toBeUndefined();
    });

    it('gives the record with its correlation id', async () => {
      const jobId = await created();

      expect(await sut.findByJobId(jobId)).toMatchObject({ jobId, correlationId: `corr-${jobId}` });
      expect(await sut.findByJobId(randomUUID())).toBeUndefined();
    });

    it('lists newest first, and nothing for an id that is not one', async () => {
      const owner = randomBytes(12).toString('hex');
      const older = await created({ userId: owner });
      // createdAt decides the order; a tie would fall back to the random ids.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const newer = await created({ userId: owner });

      const first = await sut.page(owner, { limit: 1 });
      expect((await collect(first.items)).map((job) => job.jobId)).toEqual([newer]);
      expect((await collect((await sut.page(owner, { limit: 10, after: first.next })).items)).map((job) => job.jobId)).toEqual([older]);
      expect(await collect((await sut.page('not-an-id', { limit: 10 })).items)).toEqual([]);
    });
  });

  describe('markProcessing', () => {
    it('moves a queued job to processing with the attempt number and clears an earlier error', async () => {
      const jobId = await created();
      await sut.markProcessing(jobId, 1);
      await sut.markRetrying(jobId, 'busy');

      const record = await sut.markProcessing(jobId, 2);

      expect(record).toMatchObject({ status: 'processing', attempts: 2 });
      expect(record).not.toHaveProperty('error');
    });

    it('leaves a finished job alone', async () => {
      const jobId = await created();
      await sut.markCompleted(jobId, result, 1);

      expect(await sut.markProcessing(jobId, 2)).toBeUndefined();
      expect((await sut.findByJobId(jobId))?.status).toBe('completed');
    });

    it('answers undefined for a job that does not exist', async () => {
      expect(await sut.markProcessing(randomUUID(), 1)).toBeUndefined();
    });
  });

  describe('markRetrying', () => {
    it('puts a processing job back in the queue with the reason', async () => {
      const jobId = await created();
      await sut.markProcessing(jobId, 1);

      expect(await sut.markRetrying(jobId, 'busy')).toMatchObject({ status: 'queued', error: 'busy', attempts: 1 });
    });

    it('only from processing', async () => {
      const jobId = await created();

      expect(await sut.markRetrying(jobId, 'busy')).toBeUndefined();
    });
  });

  describe('markCompleted', () => {
    it.each([
      ['queued', async (_jobId: string) => undefined],
      ['processing', (jobId: string) => sut.markProcessing(jobId, 1)],
    ])('completes a %s job with its result and no error', async (_status, setUp) => {
      const jobId = await created();
      await setUp(jobId);

      const record = await sut.markCompleted(jobId, result, 1);

      expect(record).toMatchObject({ status: 'completed', attempts: 1, generatedContent: 'The text', usage: result.usage, completedAt: expect.any(Date) });
      expect(record).not.toHaveProperty('error');
      expect(record).not.toHaveProperty('generationId');
    });

    it('happens once: a second completion finds the job finished', async () => {
      const jobId = await created();
      await sut.markCompleted(jobId, result, 1);

      expect(await sut.markCompleted(jobId, { ...result, generatedContent: 'Other text' }, 2)).toBeUndefined();
      expect((await sut.findByJobId(jobId))?.generatedContent).toBe('The text');
    });
  });

  describe('markFailed', () => {
    it('fails an unfinished job with the reason, keeping the attempts when none are given', async () => {
      const jobId = await created();
      await sut.markProcessing(jobId, 2);

      expect(await sut.markFailed(jobId, 'Content generation failed')).toMatchObject({
        status: 'failed',
        error: 'Content generation failed',
        attempts: 2,
        completedAt: expect.any(Date),
      });
    });

    it('records the attempts when given', async () => {
      const jobId = await created();

      expect(await sut.markFailed(jobId, 'Could not be queued', 3)).toMatchObject({ status: 'failed', attempts: 3 });
    });

    it('never overwrites a completion', async () => {
      const jobId = await created();
      await sut.markCompleted(jobId, result, 1);

      expect(await sut.markFailed(jobId, 'late failure')).toBeUndefined();
      expect((await sut.findByJobId(jobId))?.status).toBe('completed');
    });
  });

  describe('markCancelled', () => {
    it('cancels an unfinished job with the attempts and when, clearing an earlier attempt’s error', async () => {
      const jobId = await created();
      await sut.markProcessing(jobId, 1);
      await sut.markRetrying(jobId, 'LLM provider answered 500');

      const cancelled = await sut.markCancelled(jobId, 1);

      expect(cancelled).toMatchObject({ status: 'cancelled', attempts: 1, cancelledAt: expect.any(Date), completedAt: expect.any(Date) });
      expect(cancelled).not.toHaveProperty('error');
      expect(cancelled).not.toHaveProperty('generatedContent');
    });

    it('never overwrites a completion, and happens once', async () => {
      const completed = await created();
      await sut.markCompleted(completed, result, 1);
      const cancelled = await created();
      await sut.markCancelled(cancelled, 0);

      expect(await sut.markCancelled(completed, 1)).toBeUndefined();
      expect(await sut.markCancelled(cancelled, 0)).toBeUndefined();
      expect((await sut.findByJobId(completed))?.status).toBe('completed');
    });

    it('takes the usage of the finished calls on a cancelled record only', async () => {
      const usage = { promptTokens: 4, completionTokens: 6, totalTokens: 10 };
      const cancelled = await created();
      await sut.markCancelled(cancelled, 1);
      const queued = await created();

      expect(await sut.recordCancelledUsage(cancelled, usage)).toBe(true);
      expect(await sut.recordCancelledUsage(queued, usage)).toBe(false);
      expect((await sut.findByJobId(cancelled))?.usage).toEqual(usage);
      expect((await sut.findByJobId(queued))?.usage).toBeUndefined();
    });
  });

  describe('markUnqueued', () => {
    it('fails a queued record and frees its Idempotency-Key for a retry', async () => {
      const jobId = await created({ idempotencyKey: `${userId}:unqueued-1` });

      expect(await sut.markUnqueued(jobId, 'Could not be queued')).toMatchObject({ status: 'failed', error: 'Could not be queued' });
      expect(await sut.findByIdempotencyKey(`${userId}:unqueued-1`)).toBeUndefined();
      expect(await sut.create(newJob({ idempotencyKey: `${userId}:unqueued-1` }))).toMatchObject({ status: 'queued' });
    });

    it('leaves a record that a worker already took alone', async () => {
      const jobId = await created();
      await sut.markProcessing(jobId, 1);

      expect(await sut.markUnqueued(jobId, 'Could not be queued')).toBeUndefined();
    });
  });

  describe('isFinished', () => {
    it('says whether the record is finished, and undefined when there is none', async () => {
      const queued = await created();
      const failed = await created();
      await sut.markFailed(failed, 'failed');
      const cancelled = await created();
      await sut.markCancelled(cancelled, 0);

      expect(await sut.isFinished(queued)).toBe(false);
      expect(await sut.isFinished(failed)).toBe(true);
      expect(await sut.isFinished(cancelled)).toBe(true);
      expect(await sut.isFinished(randomUUID())).toBeUndefined();
    });
  });

  describe('listUnfinished', () => {
    it('lists queued and processing records up to the limit and says whether that was all', async () => {
      const all = await sut.listUnfinished(1000);
      const some = await sut.listUnfinished(1);

      expect(all.complete).toBe(true);
      expect(all.jobs.every((job) => job.status === 'queued' || job.status === 'processing')).toBe(true);
      expect(all.jobs[0]).toEqual({
        jobId: expect.any(String),
        userId: expect.any(String),
        status: expect.any(String),
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
        correlationId: expect.any(String),
      });
      expect(some).toEqual({ jobs: [expect.anything()], complete: false });
    });
  });

  describe('retention', () => {
    // A database of its own: only this block's records, so the scans see exactly them.
    let retained: Connection;
    let repo: JobRepository;
    let jobs: mongoose.Model<Job>;
    const cutoff = new Date('2026-01-31T00:00:00Z');
    const longAgo = new Date('2026-01-01T00:00:00Z');
    const lately = new Date('2026-03-01T00:00:00Z');

    beforeAll(async () => {
      retained = await mongoose.createConnection(`${process.env.TEST_MONGO_URI}/job_retention_${randomBytes(3).toString('hex')}`).asPromise();
      jobs = retained.model(Job.name, JobSchema) as unknown as Model<Job>;
      await jobs.init();
      repo = new JobRepository(jobs);
    });
    afterAll(async () => {
      await retained.dropDatabase();
      await retained.close();
    });

    /** A record with the given status and times, written past Mongoose's timestamps. */
    const stored = async (status: Job['status'], times: { completedAt?: Date; updatedAt: Date }): Promise<string> => {
      const jobId = (await repo.create(newJob()))!.jobId;
      const unset = times.completedAt ? {} : { $unset: { completedAt: 1 } };
      await jobs.collection.updateOne({ _id: jobId as never }, { $set: { status, ...times }, ...unset });
      return jobId;
    };

    it('lists records that finished before the cutoff, by completedAt or else updatedAt, up to the limit', async () => {
      const completedLongAgo = await stored('completed', { completedAt: longAgo, updatedAt: lately });
      const failedLongAgo = await stored('failed', { completedAt: longAgo, updatedAt: longAgo });
      const failedWithoutCompletedAt = await stored('failed', { updatedAt: longAgo });
      const cancelledLongAgo = await stored('cancelled', { completedAt: longAgo, updatedAt: longAgo });
      await stored('completed', { completedAt: lately, updatedAt: lately });
      await stored('failed', { updatedAt: lately });
      await stored('queued', { updatedAt: longAgo });
      await stored('processing', { updatedAt: longAgo });
      // Finished lately, though untouched since long ago by the record's clock: completedAt decides.
      await stored('completed', { completedAt: lately, updatedAt: longAgo });

      expect((await repo.listFinishedBefore(cutoff, 100)).sort()).toEqual([completedLongAgo, failedLongAgo, failedWithoutCompletedAt, cancelledLongAgo].sort());
      expect(await repo.listFinishedBefore(cutoff, 2)).toHaveLength(2);
    });

    it('deletes only the given records that are still finished before the cutoff, and says which', async () => {
      const due = await repo.listFinishedBefore(cutoff, 100);
      const [retried, ...rest] = due;
      // An admin retry between the scan and the delete: queued again.
      await jobs.collection.updateOne({ _id: retried as never }, { $set: { status: 'queued', updatedAt: new Date() } });
      const other = await stored('failed', { completedAt: longAgo, updatedAt: longAgo });

      expect((await repo.deleteFinishedBefore(due, cutoff)).sort()).toEqual(rest.sort());
      expect(await repo.findByJobId(retried)).toMatchObject({ status: 'queued' });
      for (const jobId of rest) expect(await repo.findByJobId(jobId)).toBeUndefined();
      expect(await repo.listFinishedBefore(cutoff, 100)).toEqual([other]);
      expect(await repo.deleteFinishedBefore([], cutoff)).toEqual([]);
      expect(await jobs.countDocuments({ completedAt: lately })).toBe(2);
    });
  });

  it('deletes a record', async () => {
    const jobId = await created();

    await sut.delete(jobId);

    expect(await sut.findByJobId(jobId)).toBeUndefined();
  });
});
