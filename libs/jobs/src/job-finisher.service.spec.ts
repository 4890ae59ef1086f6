import { MetricsService } from '@app/metrics';
import { PubSubService } from '@app/pubsub';
import { strictMock } from '@app/testing';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { processingJobRecord } from './job-record.fixture';
import { JobRecord, JobRepository } from './job.repository';
import { JobOutcome } from './job.types';

const base = processingJobRecord;
const jobStub = {
  completed: { ...base, status: 'completed', generatedContent: 'Hello', completedAt: new Date('2026-01-01T00:01:30Z') } as JobRecord,
  failed: { ...base, status: 'failed', error: 'LLM provider responded 400', completedAt: new Date('2026-01-01T00:00:02Z') } as JobRecord,
  cancelled: { ...base, status: 'cancelled', cancelledAt: new Date('2026-01-01T00:00:03Z'), completedAt: new Date('2026-01-01T00:00:03Z') } as JobRecord,
};
const outcomeStub = {
  completed: { status: 'completed', attempts: 1, result: { generatedContent: 'Hello', provider: 'offline', model: 'offline', durationMs: 5 } } as JobOutcome,
  failed: { status: 'failed', attempts: 1, error: 'LLM provider responded 400' } as JobOutcome,
  cancelled: { status: 'cancelled', attempts: 1 } as JobOutcome,
};

describe(JobFinisher.name, () => {
  let sut: JobFinisher;
  let jobs: jest.Mocked<JobRepository>;
  let ledger: jest.Mocked<JobLedgerRepository>;
  let slots: jest.Mocked<JobSlotsRepository>;
  let events: jest.Mocked<PubSubService>;
  let metrics: jest.Mocked<MetricsService>;

  beforeEach(() => {
    jobs = strictMock(JobRepository);
    ledger = strictMock(JobLedgerRepository);
    slots = strictMock(JobSlotsRepository);
    events = strictMock(PubSubService);
    metrics = strictMock(MetricsService);
    slots.release.mockResolvedValue();
    events.publish.mockResolvedValue();
    ledger.markDone.mockResolvedValue();
    metrics.jobFinished.mockReturnValue();
    sut = new JobFinisher(jobs, ledger, slots, events, metrics);
  });

  it('counts the job it finished, with its status, content type and enqueue-to-finish duration', async () => {
    jobs.markCompleted.mockResolvedValue(jobStub.completed);

    expect(await sut.finish('job-1', outcomeStub.completed)).toBe(jobStub.completed);

    expect(metrics.jobFinished).toHaveBeenCalledTimes(1);
    expect(metrics.jobFinished).toHaveBeenCalledWith({ status: 'completed', contentType: 'Blog Post Outline', durationMs: 90_000 });
    expect(slots.release).toHaveBeenCalledWith(base.userId, 'job-1');
  });

  it('counts a failed job as failed', async () => {
    jobs.markFailed.mockResolvedValue(jobStub.failed);

    await sut.finish('job-1', outcomeStub.failed);

    expect(metrics.jobFinished).toHaveBeenCalledWith({ status: 'failed', contentType: 'Blog Post Outline', durationMs: 2000 });
  });

  it('does not count a job an earlier finisher stored (a redelivery, the reconciler)', async () => {
    jobs.markCompleted.mockResolvedValue(undefined);
    jobs.findByJobId.mockResolvedValue(jobStub.completed);

    expect(await sut.finish('job-1', outcomeStub.completed)).toBe(jobStub.completed);

    expect(metrics.jobFinished).not.toHaveBeenCalled();
    expect(events.publish).toHaveBeenCalledWith('job_status', base.userId, { jobId: 'job-1', status: 'completed', attempt: 1 }, { correlationId: 'corr-1', once: 'job-1:status:completed' });
  });

  it('stores a cancel, frees the slot and announces job_status cancelled once, but no job_completed (v1 knows completed and failed)', async () => {
    jobs.markCancelled.mockResolvedValue(jobStub.cancelled);

    expect(await sut.finish('job-1', outcomeStub.cancelled)).toBe(jobStub.cancelled);

    expect(jobs.markCancelled).toHaveBeenCalledWith('job-1', 1, undefined);
    expect(slots.release).toHaveBeenCalledWith(base.userId, 'job-1');
    expect(events.publish).toHaveBeenCalledTimes(1);
    expect(events.publish).toHaveBeenCalledWith('job_status', base.userId, { jobId: 'job-1', status: 'cancelled', attempt: 1 }, { correlationId: 'corr-1', once: 'job-1:status:cancelled' });
    expect(metrics.jobFinished).toHaveBeenCalledWith({ status: 'cancelled', contentType: 'Blog Post Outline', durationMs: 3000 });
    expect(ledger.markDone).toHaveBeenCalledWith('job-1');
  });

  it('repeats the steps of a cancel an earlier finisher stored, without counting it again', async () => {
    jobs.markCancelled.mockResolvedValue(undefined);
    jobs.findByJobId.mockResolvedValue(jobStub.cancelled);

    await sut.finish('job-1', outcomeStub.cancelled);

    expect(metrics.jobFinished).not.toHaveBeenCalled();
    expect(slots.release).toHaveBeenCalledWith(base.userId, 'job-1');
    expect(events.publish).toHaveBeenCalledWith('job_status', base.userId, { jobId: 'job-1', status: 'cancelled', attempt: 1 }, { correlationId: 'corr-1', once: 'job-1:status:cancelled' });
  });
});
