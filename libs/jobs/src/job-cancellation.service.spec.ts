import { DomainError } from '@app/common';
import { strictMock } from '@app/testing';
import { BatchProgressRepository } from './batch/batch-progress.repository';
import { BatchRepository } from './batch/batch.repository';
import { JobCancellation, JobCancelSignals } from './job-cancellation.service';
import { JobSlotsRepository } from './job-slots.repository';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { processingJobRecord } from './job-record.fixture';
import { JobRecord, JobRepository } from './job.repository';
import { JobQueue } from './job.queue';
import { JobOutcome } from './job.types';

const owner = processingJobRecord.userId;
const jobStub = {
  queued: { ...processingJobRecord, status: 'queued', attempts: 0 } as JobRecord,
  processing: processingJobRecord,
  completed: { ...processingJobRecord, status: 'completed', generatedContent: 'Hello' } as JobRecord,
  cancelled: { ...processingJobRecord, status: 'cancelled' } as JobRecord,
};
const outcomeStub = {
  cancelled: { status: 'cancelled', attempts: 1 } as JobOutcome,
  completed: { status: 'completed', attempts: 1, result: { generatedContent: 'Hello', provider: 'offline', model: 'offline', durationMs: 5 } } as JobOutcome,
};

async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  return promise.then(
    () => {
      throw new Error('expected a DomainError');
    },
    (error: DomainError) => error,
  );
}

describe(JobCancellation.name, () => {
  let sut: JobCancellation;
  let jobs: jest.Mocked<JobRepository>;
  let ledger: jest.Mocked<JobLedgerRepository>;
  let queue: jest.Mocked<JobQueue>;
  let finisher: jest.Mocked<JobFinisher>;
  let signals: jest.Mocked<JobCancelSignals>;
  let batches: jest.Mocked<BatchRepository>;
  let batchProgress: jest.Mocked<BatchProgressRepository>;
  let slots: jest.Mocked<JobSlotsRepository>;

  beforeEach(() => {
    jobs = strictMock(JobRepository);
    ledger = strictMock(JobLedgerRepository);
    queue = strictMock(JobQueue);
    finisher = strictMock(JobFinisher);
    signals = strictMock(JobCancelSignals);
    batches = strictMock(BatchRepository);
    batchProgress = strictMock(BatchProgressRepository);
    slots = strictMock(JobSlotsRepository);
    sut = new JobCancellation(jobs, ledger, queue, finisher, signals, batches, batchProgress, slots);
  });

  describe('deleteAllOf', () => {
    it('cancels the unfinished jobs, waits until no worker holds one, then deletes records, queue entries and ledgers', async () => {
      jobs.listOwnedIds
        .mockResolvedValueOnce([
          { jobId: 'done', status: 'completed', correlationId: 'c1' },
          { jobId: 'open', status: 'processing', correlationId: 'c2' },
        ])
        .mockResolvedValueOnce([]);
      ledger.settleCancelled.mockResolvedValue({ status: 'cancelled' } as JobOutcome);
      signals.send.mockResolvedValue();
      queue.removeJobs.mockResolvedValue(1);
      finisher.finish.mockResolvedValue(undefined as never);
      queue.stateOf.mockResolvedValueOnce('completed').mockResolvedValueOnce('active').mockResolvedValueOnce('completed');
      jobs.deleteMany.mockResolvedValue(2);
      ledger.forget.mockResolvedValue(2);

      await expect(sut.deleteAllOf('user-1')).resolves.toBe(2);

      expect(ledger.settleCancelled).toHaveBeenCalledTimes(1);
      expect(ledger.settleCancelled).toHaveBeenCalledWith('open');
      expect(signals.send).toHaveBeenCalledWith('open');
      expect(queue.stateOf).toHaveBeenCalledTimes(3);
      expect(jobs.deleteMany).toHaveBeenCalledWith(['done', 'open']);
      expect(queue.removeJobs).toHaveBeenLastCalledWith(['done', 'open']);
      expect(ledger.forget).toHaveBeenCalledWith(['done', 'open']);
    });

    it('answers DEPENDENCY_UNAVAILABLE and deletes nothing when a worker still holds a job after the timeout', async () => {
      jobs.listOwnedIds.mockResolvedValueOnce([{ jobId: 'held', status: 'completed', correlationId: 'c' }]);
      queue.stateOf.mockResolvedValue('active');

      await expect(sut.deleteAllOf('user-1', 0)).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
      expect(jobs.deleteMany).not.toHaveBeenCalled();
    });
  });

  describe('deleteBatchesOf', () => {
    it("forgets every batch's progress, deletes the records and the user's slots", async () => {
      batches.idsOf.mockResolvedValue(['b1', 'b2']);
      batchProgress.forget.mockResolvedValue();
      batches.deleteMany.mockResolvedValue(2);
      slots.forgetUser.mockResolvedValue();

      await expect(sut.deleteBatchesOf('user-1')).resolves.toBe(2);
      expect(batchProgress.forget).toHaveBeenCalledWith('b1');
      expect(batchProgress.forget).toHaveBeenCalledWith('b2');
      expect(batches.deleteMany).toHaveBeenCalledWith(['b1', 'b2']);
      expect(slots.forgetUser).toHaveBeenCalledWith('user-1');
    });
  });

  describe('cancel', () => {
    const cancelWins = () => {
      ledger.settleCancelled.mockResolvedValue(outcomeStub.cancelled);
      signals.send.mockResolvedValue();
      queue.removeJobs.mockResolvedValue(1);
      finisher.finish.mockResolvedValue(jobStub.cancelled);
    };

    it('keeps the cancel in the ledger, signals the workers, drops the queue entry, then brings the cancel home', async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.processing);
      cancelWins();

      expect(await sut.cancel(owner, 'job-1')).toEqual({ jobId: 'job-1', status: 'cancelled' });

      expect(ledger.settleCancelled).toHaveBeenCalledWith('job-1');
      expect(signals.send).toHaveBeenCalledWith('job-1');
      expect(queue.removeJobs).toHaveBeenCalledWith(['job-1']);
      expect(finisher.finish).toHaveBeenCalledWith('job-1', outcomeStub.cancelled);
      const order = [ledger.settleCancelled, signals.send, queue.removeJobs, finisher.finish].map((mock) => mock.mock.invocationCallOrder[0]);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    it('cancels a queued job the same way', async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.queued);
      cancelWins();

      expect(await sut.cancel(owner, 'job-1')).toEqual({ jobId: 'job-1', status: 'cancelled' });
    });

    it("answers JOB_NOT_FOUND for another user's job, and for none", async () => {
      jobs.findByJobId.mockResolvedValueOnce(jobStub.processing).mockResolvedValueOnce(undefined);

      expect((await domainErrorOf(sut.cancel('someone-else', 'job-1'))).code).toBe('JOB_NOT_FOUND');
      expect((await domainErrorOf(sut.cancel(owner, 'job-2'))).code).toBe('JOB_NOT_FOUND');
      expect(ledger.settleCancelled).not.toHaveBeenCalled();
    });

    it.each([['completed'], ['failed'], ['cancelled']])('refuses a %s job with its currentStatus, touching nothing', async (status) => {
      jobs.findByJobId.mockResolvedValue({ ...processingJobRecord, status } as JobRecord);

      const error = await domainErrorOf(sut.cancel(owner, 'job-1'));

      expect(error.details).toEqual({ currentStatus: status });
      expect(ledger.settleCancelled).not.toHaveBeenCalled();
    });

    it('loses to an outcome kept just before: brings that one home and answers with its status', async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.processing);
      ledger.settleCancelled.mockResolvedValue(outcomeStub.completed);
      finisher.finish.mockResolvedValue(jobStub.completed);

      const error = await domainErrorOf(sut.cancel(owner, 'job-1'));

      expect(error.details).toEqual({ currentStatus: 'completed' });
      expect(signals.send).not.toHaveBeenCalled();
      expect(queue.removeJobs).not.toHaveBeenCalled();
      expect(finisher.finish).toHaveBeenCalledWith('job-1', outcomeStub.completed);
    });
  });

  describe('delete', () => {
    it('cancels an unfinished job first, then removes the record, the queue entry and the ledger', async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.processing);
      ledger.settleCancelled.mockResolvedValue(outcomeStub.cancelled);
      signals.send.mockResolvedValue();
      queue.removeJobs.mockResolvedValue(0);
      finisher.finish.mockResolvedValue(jobStub.cancelled);
      jobs.delete.mockResolvedValue();
      ledger.forget.mockResolvedValue(1);

      expect(await sut.delete(owner, 'job-1')).toEqual({ id: 'job-1' });

      expect(finisher.finish).toHaveBeenCalledWith('job-1', outcomeStub.cancelled);
      expect(finisher.finish.mock.invocationCallOrder[0]).toBeLessThan(jobs.delete.mock.invocationCallOrder[0]);
      expect(ledger.forget).toHaveBeenCalledWith(['job-1']);
    });

    it('deletes a finished job without cancelling it', async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.completed);
      jobs.delete.mockResolvedValue();
      queue.removeJobs.mockResolvedValue(1);
      ledger.forget.mockResolvedValue(1);

      expect(await sut.delete(owner, 'job-1')).toEqual({ id: 'job-1' });

      expect(ledger.settleCancelled).not.toHaveBeenCalled();
      expect(jobs.delete).toHaveBeenCalledWith('job-1');
      expect(queue.removeJobs).toHaveBeenCalledWith(['job-1']);
    });

    it('deletes a job whose answer won the race with the cancel (that answer is brought home first)', async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.processing);
      ledger.settleCancelled.mockResolvedValue(outcomeStub.completed);
      finisher.finish.mockResolvedValue(jobStub.completed);
      jobs.delete.mockResolvedValue();
      queue.removeJobs.mockResolvedValue(1);
      ledger.forget.mockResolvedValue(1);

      expect(await sut.delete(owner, 'job-1')).toEqual({ id: 'job-1' });
      expect(finisher.finish).toHaveBeenCalledWith('job-1', outcomeStub.completed);
      expect(signals.send).not.toHaveBeenCalled();
    });

    it("answers JOB_NOT_FOUND for another user's job and deletes nothing", async () => {
      jobs.findByJobId.mockResolvedValue(jobStub.completed);

      expect((await domainErrorOf(sut.delete('someone-else', 'job-1'))).code).toBe('JOB_NOT_FOUND');
      expect(jobs.delete).not.toHaveBeenCalled();
    });
  });
});
