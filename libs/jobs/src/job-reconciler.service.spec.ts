import { GenerationConfig } from '@app/config';
import { strictMock } from '@app/testing';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { describeQueueFailure, JobReconciler } from './job-reconciler.service';
import { JobSlotsRepository } from './job-slots.repository';
import { JobQueue } from './job.queue';
import { JobRecord, JobRepository, UnfinishedJob } from './job.repository';
import { JobOutcome } from './job.types';

const now = 1_800_000_000_000;
const grace = 60_000;
const old = new Date(now - 10 * grace);
const userId = '64b7f0c2a1b2c3d4e5f60718';
const unfinished = (jobId: string, updatedAt = old): UnfinishedJob => ({ jobId, userId, status: 'queued', createdAt: old, updatedAt, correlationId: `corr-${jobId}` });
const failedOutcome: JobOutcome = { status: 'failed', error: 'x', attempts: 1 };

describe(JobReconciler.name, () => {
  let sut: JobReconciler;
  let jobs: jest.Mocked<JobRepository>;
  let ledger: jest.Mocked<JobLedgerRepository>;
  let slots: jest.Mocked<JobSlotsRepository>;
  let queue: jest.Mocked<JobQueue>;
  let finisher: jest.Mocked<JobFinisher>;

  beforeEach(() => {
    jobs = strictMock(JobRepository);
    ledger = strictMock(JobLedgerRepository);
    slots = strictMock(JobSlotsRepository);
    queue = strictMock(JobQueue);
    finisher = strictMock(JobFinisher);
    sut = new JobReconciler(jobs, ledger, slots, queue, finisher, { reconcileGraceMs: grace } as GenerationConfig);
    ledger.settlingBefore.mockResolvedValue([]);
    slots.usersWithSlots.mockResolvedValue([]);
    slots.slots.mockResolvedValue([]);
  });

  it('brings home outcomes an outage left unstored', async () => {
    ledger.settlingBefore.mockResolvedValue(['kept']);
    ledger.read.mockResolvedValue({ done: false, attempts: 1, outcome: failedOutcome });
    finisher.finish.mockResolvedValue({} as JobRecord);
    jobs.listUnfinished.mockResolvedValue({ jobs: [], complete: true });

    expect(await sut.run(now)).toMatchObject({ finished: 1 });
    expect(ledger.settlingBefore).toHaveBeenCalledWith(now - grace, 1000);
    expect(finisher.finish).toHaveBeenCalledWith('kept', failedOutcome);
  });

  it('finishes a cancel whose request stopped after the ledger kept it, and never queues that job again (its entry is gone)', async () => {
    const cancelled: JobOutcome = { status: 'cancelled', attempts: 0 };
    jobs.listUnfinished.mockResolvedValue({ jobs: [unfinished('cancelled-midway')], complete: true });
    ledger.read.mockResolvedValue({ done: false, attempts: 0, outcome: cancelled });
    finisher.finish.mockResolvedValue({} as JobRecord);
    slots.slots.mockResolvedValue([{ jobId: 'cancelled-midway', takenAt: old.getTime() }]);

    expect(await sut.run(now)).toMatchObject({ finished: 1, requeued: 0, failed: 0 });
    expect(finisher.finish).toHaveBeenCalledWith('cancelled-midway', cancelled);
    expect(queue.stateOf).not.toHaveBeenCalled();
    expect(queue.requeue).not.toHaveBeenCalled();
  });

  it('leaves records alone that changed recently or whose BullMQ job will still run', async () => {
    jobs.listUnfinished.mockResolvedValue({ jobs: [unfinished('young', new Date(now - 1000)), unfinished('waiting')], complete: true });
    ledger.read.mockResolvedValue({ done: false, attempts: 0 });
    queue.stateOf.mockResolvedValue('delayed');
    slots.slots.mockResolvedValue([
      { jobId: 'young', takenAt: now - 1000 },
      { jobId: 'waiting', takenAt: old.getTime() },
    ]);

    expect(await sut.run(now)).toEqual({ finished: 0, failed: 0, requeued: 0, slotsFreed: 0, slotsRestored: 0 });
    expect(queue.stateOf).toHaveBeenCalledTimes(1);
  });

  it('fails a record whose BullMQ job failed by itself, saying workers died on it', async () => {
    jobs.listUnfinished.mockResolvedValue({ jobs: [unfinished('stalled')], complete: true });
    ledger.read.mockResolvedValue({ done: false, attempts: 3 });
    queue.stateOf.mockResolvedValue('failed');
    queue.failure.mockResolvedValue({ reason: 'job stalled more than allowable limit', stalled: 3 });
    ledger.settle.mockImplementation(async (_id, outcome) => outcome);
    finisher.finish.mockResolvedValue({} as JobRecord);
    slots.slots.mockResolvedValue([{ jobId: 'stalled', takenAt: old.getTime() }]);

    expect(await sut.run(now)).toMatchObject({ failed: 1 });
    expect(ledger.settle).toHaveBeenCalledWith('stalled', { status: 'failed', attempts: 3, error: describeQueueFailure('job stalled more than allowable limit', 3) });
    expect(describeQueueFailure('job stalled more than allowable limit', 3)).toMatch(/stopped 3 times/);
  });

  it('queues again a job BullMQ lost', async () => {
    jobs.listUnfinished.mockResolvedValue({ jobs: [unfinished('lost')], complete: true });
    ledger.read.mockResolvedValue({ done: false, attempts: 0 });
    queue.stateOf.mockResolvedValue('unknown');
    queue.requeue.mockResolvedValue();
    slots.slots.mockResolvedValue([{ jobId: 'lost', takenAt: old.getTime() }]);

    expect(await sut.run(now)).toMatchObject({ requeued: 1 });
    expect(queue.requeue).toHaveBeenCalledWith({ jobId: 'lost', userId, correlationId: 'corr-lost' });
  });

  it('makes slots equal the unfinished jobs: frees old leaked ones, restores missing ones', async () => {
    jobs.listUnfinished.mockResolvedValue({ jobs: [unfinished('open', new Date(now))], complete: true });
    slots.usersWithSlots.mockResolvedValue([userId]);
    slots.slots.mockResolvedValue([
      { jobId: 'leaked', takenAt: old.getTime() },
      { jobId: 'just-taken', takenAt: now - 10 },
    ]);
    slots.release.mockResolvedValue();
    slots.restore.mockResolvedValue(true);

    expect(await sut.run(now)).toMatchObject({ slotsFreed: 1, slotsRestored: 1 });
    expect(slots.release).toHaveBeenCalledWith(userId, 'leaked');
    expect(slots.restore).toHaveBeenCalledWith(userId, 'open', old.getTime(), false);
  });

  it('frees no slot when the list of unfinished jobs was cut short', async () => {
    jobs.listUnfinished.mockResolvedValue({ jobs: [], complete: false });
    expect(await sut.run(now)).toMatchObject({ slotsFreed: 0 });
    expect(slots.usersWithSlots).not.toHaveBeenCalled();
  });
});
