import { strictMock } from '@app/testing';
import { processingJobRecord } from '../job-record.fixture';
import { JobRecord } from '../job.repository';
import { UserJobLimits } from '../limits/user-job-limits';
import { UsageRecorder, usageRecordOf } from './usage-recorder.service';
import { UsageRepository } from './usage.repository';

const usage = { promptTokens: 12, completionTokens: 88, totalTokens: 100, cost: 0.0002 };
const jobStub = {
  completed: { ...processingJobRecord, status: 'completed', provider: 'openrouter', model: 'openai/gpt-4o-mini', usage, completedAt: new Date('2026-11-24T23:59:59Z') } as JobRecord,
  failed: { ...processingJobRecord, status: 'failed', error: 'LLM provider responded 400', completedAt: new Date('2026-11-25T00:00:01Z') } as JobRecord,
  cancelled: { ...processingJobRecord, status: 'cancelled', cancelledAt: new Date('2026-11-24T10:00:00Z'), completedAt: new Date('2026-11-24T10:00:00Z') } as JobRecord,
  retried: { ...processingJobRecord, status: 'completed', retries: 2, provider: 'offline', model: 'offline', usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 }, completedAt: new Date('2026-11-24T08:00:00Z') } as JobRecord,
};

describe(UsageRecorder.name, () => {
  let sut: UsageRecorder;
  let records: jest.Mocked<UsageRepository>;
  let limits: jest.Mocked<UserJobLimits>;

  beforeEach(() => {
    records = strictMock(UsageRepository);
    limits = strictMock(UserJobLimits);
    limits.countTokens.mockResolvedValue(0);
    sut = new UsageRecorder(records, limits);
  });

  it('records a completed job under its jobId and UTC day of completion, and counts its tokens into that day', async () => {
    records.insert.mockResolvedValue(true);

    await sut.recordFinished(jobStub.completed);

    expect(records.insert).toHaveBeenCalledWith({
      recordId: 'job-1',
      jobId: 'job-1',
      userId: processingJobRecord.userId,
      day: '2026-11-24',
      model: 'openai/gpt-4o-mini',
      provider: 'openrouter',
      status: 'completed',
      promptTokens: 12,
      completionTokens: 88,
      totalTokens: 100,
      cost: 0.0002,
      finishedAt: jobStub.completed.completedAt,
    });
    expect(limits.countTokens).toHaveBeenCalledWith(processingJobRecord.userId, 'job-1', '2026-11-24', 100);
  });

  it('records a failed job with no usage as zeros, and an admin retry as a run of its own', () => {
    expect(usageRecordOf(jobStub.failed)).toMatchObject({ recordId: 'job-1', day: '2026-11-25', status: 'failed', model: 'unknown', provider: 'unknown', totalTokens: 0, cost: 0 });
    expect(usageRecordOf({ ...jobStub.failed, options: { model: 'meta/llama' } })).toMatchObject({ model: 'meta/llama' });
    expect(usageRecordOf(jobStub.retried)).toMatchObject({ recordId: 'job-1:r2', jobId: 'job-1', cost: 0 });
  });

  it('still counts the tokens when the record was inserted before (a finish that stopped half-way); the counter counts once', async () => {
    records.insert.mockResolvedValue(false);

    await sut.recordFinished(jobStub.completed);

    expect(limits.countTokens).toHaveBeenCalledWith(processingJobRecord.userId, 'job-1', '2026-11-24', 100);
  });

  it("updates a cancelled job's record with the usage learnt after the cancel", async () => {
    records.insert.mockResolvedValue(false);
    records.setUsage.mockResolvedValue();

    await sut.recordFinished({ ...jobStub.cancelled, usage });

    expect(records.setUsage).toHaveBeenCalledWith('job-1', { promptTokens: 12, completionTokens: 88, totalTokens: 100, cost: 0.0002 });
    expect(limits.countTokens).toHaveBeenCalledWith(processingJobRecord.userId, 'job-1', '2026-11-24', 100);
  });
});
