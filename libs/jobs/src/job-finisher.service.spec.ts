import { MetricsService } from '@app/metrics';
import { PubSubService } from '@app/pubsub';
import { strictMock } from '@app/testing';
import { WebhookEventsService } from '@app/webhooks';
import { BatchProgress } from './batch/batch-progress.service';
import { JobFinisher } from './job-finisher.service';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { processingJobRecord } from './job-record.fixture';
import { JobRecord, JobRepository } from './job.repository';
import { JobOutcome } from './job.types';
import { UsageRecorder } from './usage/usage-recorder.service';

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
  let batches: jest.Mocked<BatchProgress>;
  let webhooks: jest.Mocked<WebhookEventsService>;
  let usage: jest.Mocked<UsageRecorder>;

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
    batches = strictMock(BatchProgress);
    batches.jobEnded.mockResolvedValue();
    webhooks = strictMock(WebhookEventsService);
    webhooks.emit.mockResolvedValue();
    usage = strictMock(UsageRecorder);
    usage.recordFinished.mockResolvedValue();
    sut = new JobFinisher(jobs, ledger, slots, events, metrics, batches, webhooks, usage);
  });

  it.each([
    ['completed', jobStub.completed],
    ['failed', jobStub.failed],
    ['cancelled', jobStub.cancelled],
  ] as const)('records the usage of a %s job once its record holds the outcome, before the ledger is done', async (status, job) => {
    jobs[status === 'completed' ? 'markCompleted' : status === 'failed' ? 'markFailed' : 'markCancelled'].mockResolvedValue(job);

    await sut.finish('job-1', outcomeStub[status]);

    expect(usage.recordFinished).toHaveBeenCalledWith(job);
    expect(usage.recordFinished.mock.invocationCallOrder[0]).toBeLessThan(ledger.markDone.mock.invocationCallOrder[0]);
  });

  it('records the usage again on a repeated finish (the recorder counts once), and none for a record that is gone', async () => {
    jobs.markCompleted.mockResolvedValue(undefined);
    jobs.findByJobId.mockResolvedValueOnce(jobStub.completed).mockResolvedValueOnce(undefined);

    await sut.finish('job-1', outcomeStub.completed);
    await sut.finish('job-1', outcomeStub.completed);

    expect(usage.recordFinished).toHaveBeenCalledTimes(1);
  });

  it('leaves the ledger not done when the usage cannot be recorded, so the finish is tried again', async () => {
    jobs.markCompleted.mockResolvedValue(jobStub.completed);
    usage.recordFinished.mockRejectedValue(new Error('connection refused'));

    await expect(sut.finish('job-1', outcomeStub.completed)).rejects.toThrow('connection refused');

    expect(ledger.markDone).not.toHaveBeenCalled();
  });

  it("adds a cancelled job's usage learnt after its cancel to its usage record", async () => {
    jobs.findByJobId.mockResolvedValue(jobStub.cancelled);
    const late = { promptTokens: 10, completionTokens: 20, totalTokens: 30, cost: 0.001 };

    await sut.recordCancelledUsage('job-1', late);

    expect(usage.recordFinished).toHaveBeenCalledWith({ ...jobStub.cancelled, usage: late });
  });

  it('ignores late usage for a job that is not cancelled (an answer won the race)', async () => {
    jobs.findByJobId.mockResolvedValue(jobStub.completed);

    await sut.recordCancelledUsage('job-1', { promptTokens: 1, completionTokens: 1, totalTokens: 2 });

    expect(usage.recordFinished).not.toHaveBeenCalled();
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

  it('tells the batch and the webhooks of every end, with a webhook event id that a repeated finish repeats', async () => {
    jobs.markCompleted.mockResolvedValueOnce(jobStub.completed).mockResolvedValueOnce(undefined);
    jobs.findByJobId.mockResolvedValue(jobStub.completed);

    await sut.finish('job-1', outcomeStub.completed);
    await sut.finish('job-1', outcomeStub.completed);

    expect(batches.jobEnded).toHaveBeenCalledTimes(2);
    expect(webhooks.emit).toHaveBeenCalledTimes(2);
    const [first, second] = webhooks.emit.mock.calls.map(([event]) => event);
    expect(first).toEqual(second);
    expect(first).toMatchObject({ id: 'job-1:webhook', type: 'job.completed', userId: base.userId, data: { jobId: 'job-1', status: 'completed', generatedContent: 'Hello' } });
    expect(first.data).not.toHaveProperty('correlationId');
  });

  it('marks the ledger done only after the webhook event is queued, so a failed emit is repeated', async () => {
    jobs.markFailed.mockResolvedValue(jobStub.failed);
    webhooks.emit.mockRejectedValueOnce(new Error('Queue did not answer in time'));

    await expect(sut.finish('job-1', outcomeStub.failed)).rejects.toThrow('Queue did not answer in time');
    expect(ledger.markDone).not.toHaveBeenCalled();
  });
});
