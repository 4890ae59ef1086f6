import { GenerationConfig, RealtimeConfig } from '@app/config';
import { LlmBadRequestError, LlmProvider, LlmServerError } from '@app/openrouter';
import { PubSubService } from '@app/pubsub';
import { strictMock } from '../../../test/support/strict-mock';
import { GenerationService, isRetryable, safeErrorMessage } from './generation.service';
import { JobQuotaRepository } from './job-quota.repository';
import { JobRepository } from './job.repository';
import { JobView } from './job.types';

const payload = { jobId: 'job-1', userId: '64b7f0c2a1b2c3d4e5f60718', correlationId: 'corr-1' };
const base: JobView = {
  _id: 'job-1',
  jobId: 'job-1',
  userId: payload.userId,
  prompt: 'A prompt',
  contentType: 'Blog Post Outline',
  status: 'processing',
  scheduledFor: new Date('2026-01-01T00:00:00Z'),
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  attempts: 1,
};
const jobStub = {
  processing: base,
  completed: { ...base, status: 'completed', generatedContent: 'Hello world', completedAt: new Date('2026-01-01T00:01:00Z') } as JobView,
  failed: { ...base, status: 'failed', error: 'LLM provider answered 500', completedAt: new Date('2026-01-01T00:01:00Z'), attempts: 3 } as JobView,
  retrying: { ...base, status: 'queued', error: 'LLM provider answered 500' } as JobView,
};

describe(GenerationService.name, () => {
  let sut: GenerationService;
  let jobs: jest.Mocked<JobRepository>;
  let quotas: jest.Mocked<JobQuotaRepository>;
  let llm: jest.Mocked<LlmProvider>;
  let events: jest.Mocked<PubSubService>;

  beforeEach(() => {
    jobs = strictMock(JobRepository);
    quotas = strictMock(JobQuotaRepository);
    events = strictMock(PubSubService);
    llm = { name: 'offline', generate: jest.fn(() => Promise.reject(new Error('unexpected call: generate'))) } as unknown as jest.Mocked<LlmProvider>;
    events.publish.mockResolvedValue();
    sut = new GenerationService(jobs, quotas, llm, events, { deltaIntervalMs: 10 } as RealtimeConfig, { attempts: 3 } as GenerationConfig);
  });

  it('completes a job: deltas, then the record, then the slot, then job_completed', async () => {
    jobs.markProcessing.mockResolvedValue(jobStub.processing);
    llm.generate.mockImplementation(async (request) => {
      request.onDelta?.('Hello ');
      request.onDelta?.('world');
      return { text: 'Hello world', provider: 'offline', model: 'offline', durationMs: 5, finishReason: 'stop' };
    });
    jobs.markCompleted.mockResolvedValue(jobStub.completed);
    quotas.release.mockResolvedValue();
    jobs.markAnnounced.mockResolvedValue();

    await sut.run(payload, 1);

    expect(jobs.markProcessing).toHaveBeenCalledWith('job-1', 1);
    expect(jobs.markCompleted).toHaveBeenCalledWith('job-1', expect.objectContaining({ generatedContent: 'Hello world', provider: 'offline' }));
    expect(quotas.release).toHaveBeenCalledWith(payload.userId);
    const published = events.publish.mock.calls.map(([event, , body]) => [event, body]);
    const deltas = published.filter(([event]) => event === 'job_delta').map(([, body]) => (body as { text: string }).text);
    expect(deltas.join('')).toBe('Hello world');
    expect(published.at(-1)).toEqual([
      'job_completed',
      { userId: payload.userId, jobId: 'job-1', status: 'completed', generatedContent: 'Hello world', completedAt: '2026-01-01T00:01:00.000Z' },
    ]);
    expect(jobs.markAnnounced).toHaveBeenCalledWith('job-1');
  });

  it('completes a job whose streamed deltas could not be published (they are best-effort)', async () => {
    jobs.markProcessing.mockResolvedValue(jobStub.processing);
    events.publish.mockImplementation(async (event) => {
      if (event === 'job_delta') throw new Error('Redis hiccup');
    });
    llm.generate.mockImplementation(async (request) => {
      request.onDelta?.('Hello world');
      return { text: 'Hello world', provider: 'offline', model: 'offline', durationMs: 5 };
    });
    jobs.markCompleted.mockResolvedValue(jobStub.completed);
    quotas.release.mockResolvedValue();
    jobs.markAnnounced.mockResolvedValue();

    await sut.run(payload, 1);

    expect(jobs.markCompleted).toHaveBeenCalledTimes(1);
    expect(events.publish).toHaveBeenCalledWith('job_completed', payload.userId, expect.objectContaining({ status: 'completed' }), { correlationId: 'corr-1' });
  });

  it('does not call the provider again for a job that already finished (a second delivery)', async () => {
    jobs.markProcessing.mockResolvedValue(undefined);
    jobs.findByJobId.mockResolvedValue({ ...jobStub.completed, correlationId: 'corr-1', announcedAt: new Date() });

    await sut.run(payload, 2);

    expect(llm.generate).not.toHaveBeenCalled();
    expect(events.publish).not.toHaveBeenCalled();
  });

  it('announces a finished job whose announcement was lost', async () => {
    jobs.markProcessing.mockResolvedValue(undefined);
    jobs.findByJobId.mockResolvedValue({ ...jobStub.completed, correlationId: 'corr-1' });
    jobs.markAnnounced.mockResolvedValue();

    await sut.run(payload, 2);

    expect(llm.generate).not.toHaveBeenCalled();
    expect(events.publish).toHaveBeenCalledWith('job_completed', payload.userId, expect.objectContaining({ status: 'completed' }), { correlationId: 'corr-1' });
  });

  it('marks a retryable failure for retry without freeing the slot', async () => {
    jobs.markRetrying.mockResolvedValue(jobStub.retrying);

    await sut.recordFailure(payload, new LlmServerError('LLM provider answered 500', 500), 1, false);

    expect(jobs.markRetrying).toHaveBeenCalledWith('job-1', 'LLM provider answered 500');
    expect(events.publish).toHaveBeenCalledWith('job_status', payload.userId, { jobId: 'job-1', status: 'retrying', attempt: 1 });
  });

  it('fails the job on the last attempt, frees the slot and announces the failure', async () => {
    jobs.markFailed.mockResolvedValue(jobStub.failed);
    quotas.release.mockResolvedValue();
    jobs.markAnnounced.mockResolvedValue();

    await sut.recordFailure(payload, new LlmServerError('LLM provider answered 500', 500), 3, true);

    expect(jobs.markFailed).toHaveBeenCalledWith('job-1', 'LLM provider answered 500', 3);
    expect(quotas.release).toHaveBeenCalledWith(payload.userId);
    expect(events.publish).toHaveBeenCalledWith(
      'job_completed',
      payload.userId,
      { userId: payload.userId, jobId: 'job-1', status: 'failed', error: 'LLM provider answered 500', completedAt: '2026-01-01T00:01:00.000Z' },
      { correlationId: 'corr-1' },
    );
  });

  it('does nothing twice when the failure was already recorded by another delivery', async () => {
    jobs.markFailed.mockResolvedValue(undefined);

    await sut.recordFailure(payload, new Error('boom'), 3, true);

    expect(quotas.release).not.toHaveBeenCalled();
    expect(events.publish).not.toHaveBeenCalled();
  });
});

describe('failure classification', () => {
  it('retries anything but a typed provider refusal', () => {
    expect(isRetryable(new LlmServerError('x', 502))).toBe(true);
    expect(isRetryable(new Error('database hiccup'))).toBe(true);
    expect(isRetryable(new LlmBadRequestError('bad', 400))).toBe(false);
  });

  it('never stores an internal error message', () => {
    expect(safeErrorMessage(new Error('MongoServerError: E11000 at 10.0.0.3'))).toBe('Content generation failed');
    expect(safeErrorMessage(new LlmServerError('x'.repeat(500), 500)).length).toBeLessThanOrEqual(200);
  });
});
