import { DomainError } from '@app/common';
import { GenerationConfig } from '@app/config';
import { PubSubService } from '@app/pubsub';
import { outageStub, strictMock } from '@app/testing';
import { AdminJobsRepository, AdminJobView } from './admin-jobs.repository';
import { AdminJobsService, percentile } from './admin-jobs.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobQueue } from './job.queue';
import { JobSlotsRepository } from './job-slots.repository';
import { JobsService } from './jobs.service';

const NOW = Date.parse('2026-01-02T00:00:00Z');
const userId = '64b7f0c2a1b2c3d4e5f60718';
const jobId = '0b5f3a52-1c1e-4a8e-9a0b-2a1f4f6b7c01';
const base: AdminJobView = {
  _id: jobId,
  jobId,
  userId,
  correlationId: 'corr-1',
  prompt: 'A launch post',
  contentType: 'Blog Post Outline',
  status: 'failed',
  scheduledFor: new Date(NOW - 60_000),
  createdAt: new Date(NOW - 60_000),
  updatedAt: new Date(NOW - 30_000),
  completedAt: new Date(NOW - 30_000),
  error: 'The provider refused the request',
  attempts: 2,
};
const jobStub = {
  failed: base,
  completed: { ...base, status: 'completed', error: undefined, generatedContent: 'Text' } as AdminJobView,
  requeued: { ...base, status: 'queued', error: undefined, completedAt: undefined, retries: 1 } as AdminJobView,
};
const payload = { jobId, userId, correlationId: 'corr-1' };

function domainError(code: DomainError['code'], message: string | RegExp, extra: object = {}) {
  return { name: 'DomainError', code, message, ...extra };
}

describe(AdminJobsService.name, () => {
  let sut: AdminJobsService;
  let jobs: jest.Mocked<AdminJobsRepository>;
  let userJobs: jest.Mocked<JobsService>;
  let slots: jest.Mocked<JobSlotsRepository>;
  let ledger: jest.Mocked<JobLedgerRepository>;
  let queue: jest.Mocked<JobQueue>;
  let events: jest.Mocked<PubSubService>;
  const config = { rateLimit: { max: 10, duration: 60_000 } } as GenerationConfig;

  beforeEach(() => {
    jobs = strictMock(AdminJobsRepository);
    userJobs = strictMock(JobsService);
    slots = strictMock(JobSlotsRepository);
    ledger = strictMock(JobLedgerRepository);
    queue = strictMock(JobQueue);
    events = strictMock(PubSubService);
    sut = new AdminJobsService(jobs, userJobs, slots, ledger, queue, events, config);
  });

  describe('retry', () => {
    /** Every step answers as for a failed job that can run again. */
    const retriable = () => {
      jobs.findById.mockResolvedValue(jobStub.failed);
      ledger.reopen.mockResolvedValue(true);
      userJobs.acquireSlot.mockResolvedValue(1);
      jobs.markRequeued.mockResolvedValue(jobStub.requeued);
      queue.requeue.mockResolvedValue();
      events.publish.mockResolvedValue();
    };

    it('reopens the ledger, takes a slot, queues the record and the BullMQ job again, then announces job_status queued', async () => {
      retriable();

      expect(await sut.retry(jobId)).toEqual({ message: 'Job queued again', jobId, status: 'queued', retries: 1 });

      expect(ledger.reopen).toHaveBeenCalledWith(jobId);
      expect(userJobs.acquireSlot).toHaveBeenCalledWith(userId, jobId);
      expect(jobs.markRequeued).toHaveBeenCalledWith(jobId, 1);
      expect(queue.requeue).toHaveBeenCalledWith(payload);
      expect(events.publish).toHaveBeenCalledWith('job_status', userId, { jobId, status: 'queued', attempt: 2 }, { correlationId: 'corr-1' });
      const order = [ledger.reopen, userJobs.acquireSlot, jobs.markRequeued, queue.requeue, events.publish].map((mock) => mock.mock.invocationCallOrder[0]);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    it('counts retries on from the record', async () => {
      retriable();
      jobs.findById.mockResolvedValue({ ...jobStub.failed, retries: 2 });
      jobs.markRequeued.mockResolvedValue({ ...jobStub.requeued, retries: 3 });

      expect((await sut.retry(jobId)).retries).toBe(3);
      expect(jobs.markRequeued).toHaveBeenCalledWith(jobId, 3);
    });

    it('answers JOB_NOT_FOUND for an unknown job', async () => {
      jobs.findById.mockResolvedValue(undefined);

      await expect(sut.retry(jobId)).rejects.toMatchObject(domainError('JOB_NOT_FOUND', 'Job not found'));
    });

    it('answers JOB_NOT_FAILED with the current status for a job that is not failed, touching nothing', async () => {
      jobs.findById.mockResolvedValue(jobStub.completed);

      await expect(sut.retry(jobId)).rejects.toMatchObject(
        domainError('JOB_NOT_FAILED', 'Job is completed; only failed jobs can be retried', { details: { currentStatus: 'completed' } }),
      );
      expect(ledger.reopen).not.toHaveBeenCalled();
    });

    it('answers JOB_NOT_FAILED when the ledger will not reopen (a racing retry won), without taking a slot', async () => {
      jobs.findById.mockResolvedValue(jobStub.failed);
      ledger.reopen.mockResolvedValue(false);

      await expect(sut.retry(jobId)).rejects.toMatchObject({ code: 'JOB_NOT_FAILED' });
      expect(userJobs.acquireSlot).not.toHaveBeenCalled();
    });

    it('closes the ledger again and passes TOO_MANY_ACTIVE_JOBS on when the owner is at the cap', async () => {
      jobs.findById.mockResolvedValue(jobStub.failed);
      ledger.reopen.mockResolvedValue(true);
      userJobs.acquireSlot.mockRejectedValue(new DomainError('TOO_MANY_ACTIVE_JOBS', 'You already have 3 unfinished jobs', { limit: 3 }));
      ledger.markDone.mockResolvedValue();

      await expect(sut.retry(jobId)).rejects.toMatchObject({ code: 'TOO_MANY_ACTIVE_JOBS' });
      expect(ledger.markDone).toHaveBeenCalledWith(jobId);
      expect(jobs.markRequeued).not.toHaveBeenCalled();
    });

    it('frees the slot and closes the ledger when the record is no longer failed', async () => {
      retriable();
      jobs.markRequeued.mockResolvedValue(undefined);
      slots.release.mockResolvedValue();
      ledger.markDone.mockResolvedValue();

      await expect(sut.retry(jobId)).rejects.toMatchObject({ code: 'JOB_NOT_FAILED' });
      expect(slots.release).toHaveBeenCalledWith(userId, jobId);
      expect(ledger.markDone).toHaveBeenCalledWith(jobId);
      expect(queue.requeue).not.toHaveBeenCalled();
    });

    it('puts the record back to failed, frees the slot and answers DEPENDENCY_UNAVAILABLE when the queue refuses', async () => {
      retriable();
      queue.requeue.mockRejectedValue(outageStub.redis);
      jobs.markFailedAgain.mockResolvedValue();
      slots.release.mockResolvedValue();
      ledger.markDone.mockResolvedValue();

      await expect(sut.retry(jobId)).rejects.toMatchObject(domainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly'));
      expect(jobs.markFailedAgain).toHaveBeenCalledWith(jobId, base.error, 0);
      expect(slots.release).toHaveBeenCalledWith(userId, jobId);
      expect(ledger.markDone).toHaveBeenCalledWith(jobId);
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('still answers queued when the announcement fails (the job is queued; the worker announces what follows)', async () => {
      retriable();
      events.publish.mockRejectedValue(outageStub.redis);

      expect((await sut.retry(jobId)).status).toBe('queued');
    });
  });

  describe('list', () => {
    const page = (count: number) => Array.from({ length: count }, (_unused, i) => ({ ...base, jobId: `0b5f3a52-1c1e-4a8e-9a0b-2a1f4f6b7c${String(i).padStart(2, '0')}` }));

    it('reads one more than a page and points at the next one with a cursor', async () => {
      jobs.list.mockResolvedValue(page(3));

      const result = await sut.list({ status: 'failed', userId, limit: 2 });

      expect(jobs.list).toHaveBeenCalledWith({ status: 'failed', userId, limit: 3, after: undefined });
      expect(result.jobs).toEqual(page(2));
      expect(Buffer.from(result.nextCursor!, 'base64url').toString()).toBe(`${base.createdAt.toISOString()}|${page(2)[1].jobId}`);
    });

    it('continues after a cursor it issued and refuses any other, naming the field', async () => {
      jobs.list.mockResolvedValue([]);
      const cursor = Buffer.from(`${base.createdAt.toISOString()}|${jobId}`).toString('base64url');

      expect(await sut.list({ cursor })).toEqual({ jobs: [] });
      expect(jobs.list).toHaveBeenCalledWith({ status: undefined, userId: undefined, limit: 51, after: { createdAt: base.createdAt, jobId } });
      await expect(sut.list({ cursor: 'garbage' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { details: [{ field: 'cursor', errors: ['cursor is invalid'] }] },
      });
    });
  });

  describe('stats', () => {
    it('reports queue counts, the last 24 h, duration percentiles, workers and the rate limit', async () => {
      const counts = { waiting: 1, delayed: 0, active: 2, prioritized: 0, 'waiting-children': 0, completed: 40, failed: 3 };
      queue.counts.mockResolvedValue(counts);
      queue.workerCount.mockResolvedValue(2);
      jobs.countFinishedSince.mockImplementation(async (status) => (status === 'completed' ? 40 : 3));
      const finished = (durationMs: number | undefined, totalMs = 9999) => ({ status: 'completed' as const, durationMs, createdAt: new Date(NOW - totalMs), completedAt: new Date(NOW) });
      jobs.completedSince.mockResolvedValue([finished(300), finished(100), finished(undefined, 200), finished(400)]);

      expect(await sut.stats(NOW)).toEqual({
        queue: counts,
        finishedLast24h: { completed: 40, failed: 3 },
        durationMs: { p50: 200, p95: 400, sampleSize: 4 },
        workers: 2,
        rateLimit: { max: 10, durationMs: 60_000 },
      });
      const since = new Date(NOW - 24 * 3600_000);
      expect(jobs.countFinishedSince).toHaveBeenCalledWith('failed', since);
      expect(jobs.completedSince).toHaveBeenCalledWith(since, 1000);
    });

    it('has no percentiles without completed jobs, and no rate limit when it is off', async () => {
      sut = new AdminJobsService(jobs, userJobs, slots, ledger, queue, events, { rateLimit: undefined } as GenerationConfig);
      queue.counts.mockResolvedValue({});
      queue.workerCount.mockResolvedValue(0);
      jobs.countFinishedSince.mockResolvedValue(0);
      jobs.completedSince.mockResolvedValue([]);

      expect(await sut.stats(NOW)).toMatchObject({ durationMs: { p50: null, p95: null, sampleSize: 0 }, rateLimit: null });
    });
  });

  it.each([
    [[5], 0.5, 5],
    [[1, 2, 3, 4], 0.5, 2],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 0.95, 19],
    [[], 0.5, null],
  ])('percentile of %j at %d is %p (nearest rank)', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});
