import { ContentGenerator } from './content-generator';
import { GenerationConfig, RealtimeConfig } from '@app/config';
import { LlmProvider, LlmServerError } from '@app/llm';
import { MetricsService } from '@app/metrics';
import { PubSubService } from '@app/pubsub';
import { strictMock } from '@app/testing';
import { ABORT_CANCELLED, ABORT_LOCK_LOST, ABORT_SHUTDOWN } from './failure-policy';
import { GenerationService } from './generation.service';
import { JobFinisher } from './job-finisher.service';
import { Delivery, JobLedgerRepository } from './job-ledger.repository';
import { processingJobRecord } from './job-record.fixture';
import { JobRecord, JobRepository } from './job.repository';
import { JobOutcome } from './job.types';

const payload = { jobId: 'job-1', userId: '64b7f0c2a1b2c3d4e5f60718', correlationId: 'corr-1' };
// A caption: "Hello world" keeps its output contract, so no repair request follows.
const base = { ...processingJobRecord, contentType: 'Social Media Caption' } as JobRecord;
const jobStub = {
  processing: base,
  completed: { ...base, status: 'completed', generatedContent: 'Hello world', completedAt: new Date('2026-01-01T00:01:00Z') } as JobRecord,
  failed: { ...base, status: 'failed', error: 'LLM provider answered 500', completedAt: new Date('2026-01-01T00:01:00Z'), attempts: 3 } as JobRecord,
  requeued: { ...base, status: 'queued', error: 'LLM provider answered 500' } as JobRecord,
  cancelled: { ...base, status: 'cancelled', cancelledAt: new Date('2026-01-01T00:00:30Z'), completedAt: new Date('2026-01-01T00:00:30Z') } as JobRecord,
};
const deliveryStub = {
  first: { delivery: 1, done: false, attempts: 0, failures: 0, pauses: 0 } as Delivery,
  third: { delivery: 3, done: false, attempts: 2, failures: 2, pauses: 0 } as Delivery,
};
const completedOutcome: JobOutcome = {
  status: 'completed',
  attempts: 1,
  result: {
    generatedContent: 'Hello world',
    validation: { ok: true, problems: [] },
    provider: 'offline',
    model: 'offline',
    durationMs: 5,
    finishReason: 'stop',
    usage: undefined,
    generationId: undefined,
  },
};
const cancelledOutcome: JobOutcome = { status: 'cancelled', attempts: 1 };
const usageStub = { promptTokens: 10, completionTokens: 20, totalTokens: 30 };
const mongoDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name: 'MongoServerSelectionError' });

describe(GenerationService.name, () => {
  let sut: GenerationService;
  let jobs: jest.Mocked<JobRepository>;
  let ledger: jest.Mocked<JobLedgerRepository>;
  let finisher: jest.Mocked<JobFinisher>;
  let llm: jest.Mocked<LlmProvider>;
  let events: jest.Mocked<PubSubService>;
  let metrics: jest.Mocked<MetricsService>;
  let generator: ContentGenerator;
  const config = { attempts: 3, backoffMs: 1000, outageMaxMs: 3_600_000, outageBackoffMaxMs: 30_000 } as GenerationConfig;

  beforeEach(() => {
    jobs = strictMock(JobRepository);
    ledger = strictMock(JobLedgerRepository);
    finisher = strictMock(JobFinisher);
    events = strictMock(PubSubService);
    metrics = strictMock(MetricsService);
    metrics.generationFinished.mockReturnValue();
    metrics.generationFailed.mockReturnValue();
    llm = { name: 'offline', model: 'offline', generate: jest.fn(() => Promise.reject(new Error('unexpected call: generate'))) } as unknown as jest.Mocked<LlmProvider>;
    events.publish.mockResolvedValue();
    generator = new ContentGenerator(llm);
    sut = new GenerationService(jobs, ledger, finisher, llm, generator, events, metrics, { deltaIntervalMs: 10 } as RealtimeConfig, config);
  });

  const startsFirstDelivery = () => {
    ledger.begin.mockResolvedValue(deliveryStub.first);
    jobs.markProcessing.mockResolvedValue(jobStub.processing);
    ledger.startAttempt.mockResolvedValue(1);
  };

  it('completes a job: claim, one provider call with numbered deltas, keep the answer, then bring it home', async () => {
    startsFirstDelivery();
    llm.generate.mockImplementation(async (request) => {
      request.onDelta?.('Hello ');
      request.onDelta?.('world');
      return { text: 'Hello world', texts: ['Hello world'], provider: 'offline', model: 'offline', durationMs: 5, finishReason: 'stop' };
    });
    ledger.settle.mockImplementation(async (_id, outcome) => outcome);
    finisher.finish.mockResolvedValue(jobStub.completed);

    expect(await sut.deliver(payload)).toEqual({ action: 'done' });

    expect(jobs.markProcessing).toHaveBeenCalledWith('job-1', 1);
    expect(ledger.startAttempt).toHaveBeenCalledWith('job-1', 1);
    expect(ledger.settle).toHaveBeenCalledWith('job-1', completedOutcome, 1);
    expect(finisher.finish).toHaveBeenCalledWith('job-1', completedOutcome);
    const deltas = events.publish.mock.calls.filter(([event]) => event === 'job_delta').map(([, , body]) => body as { text: string; delivery: number; attempt: number });
    expect(deltas.map((delta) => delta.text).join('')).toBe('Hello world');
    expect(deltas.every((delta) => delta.delivery === 1 && delta.attempt === 1)).toBe(true);
    expect(metrics.generationFinished).toHaveBeenCalledWith({ model: 'offline', durationMs: 5, usage: undefined });
    expect(metrics.generationFailed).not.toHaveBeenCalled();
  });

  it('writes the processing status to the record before announcing it', async () => {
    startsFirstDelivery();
    llm.generate.mockResolvedValue({ text: 'Hello world', texts: ['Hello world'], provider: 'offline', model: 'offline', durationMs: 5, finishReason: 'stop' });
    ledger.settle.mockImplementation(async (_id, outcome) => outcome);
    finisher.finish.mockResolvedValue(jobStub.completed);

    await sut.deliver(payload);

    const announced = events.publish.mock.calls.findIndex(([event, , body]) => event === 'job_status' && (body as { status: string }).status === 'processing');
    expect(announced).toBeGreaterThanOrEqual(0);
    expect(jobs.markProcessing.mock.invocationCallOrder[0]).toBeLessThan(events.publish.mock.invocationCallOrder[announced]);
  });

  it('completes a job whose streamed deltas could not be published (they are best-effort)', async () => {
    startsFirstDelivery();
    events.publish.mockImplementation(async (event) => {
      if (event === 'job_delta') throw new Error('Redis hiccup');
    });
    llm.generate.mockImplementation(async (request) => {
      request.onDelta?.('Hello world');
      return { text: 'Hello world', texts: ['Hello world'], provider: 'offline', model: 'offline', durationMs: 5, finishReason: 'stop' };
    });
    ledger.settle.mockImplementation(async (_id, outcome) => outcome);
    finisher.finish.mockResolvedValue(jobStub.completed);

    expect(await sut.deliver(payload)).toEqual({ action: 'done' });
    expect(finisher.finish).toHaveBeenCalledTimes(1);
  });

  it('brings a kept answer home without calling the provider again (a redelivery after an outage or crash)', async () => {
    ledger.begin.mockResolvedValue({ ...deliveryStub.first, delivery: 2, attempts: 1, outcome: completedOutcome });
    finisher.finish.mockResolvedValue(jobStub.completed);

    expect(await sut.deliver(payload)).toEqual({ action: 'done' });
    expect(llm.generate).not.toHaveBeenCalled();
    expect(jobs.markProcessing).not.toHaveBeenCalled();
  });

  it('does nothing for a job the ledger says is done', async () => {
    ledger.begin.mockResolvedValue({ ...deliveryStub.first, delivery: 0, done: true });
    expect(await sut.deliver(payload)).toEqual({ action: 'done' });
    expect(llm.generate).not.toHaveBeenCalled();
  });

  it('stops before the provider call when another delivery has taken the job over', async () => {
    startsFirstDelivery();
    ledger.startAttempt.mockResolvedValue(undefined);
    ledger.read.mockResolvedValue({ done: false, attempts: 1 });
    expect(await sut.deliver(payload)).toEqual({ action: 'release' });
    expect(llm.generate).not.toHaveBeenCalled();
  });

  it('keeps nothing when its answer arrives after another delivery took the job over', async () => {
    startsFirstDelivery();
    llm.generate.mockResolvedValue({ text: 'late', texts: ['late'], provider: 'offline', model: 'offline', durationMs: 5 });
    ledger.settle.mockResolvedValue(undefined);
    expect(await sut.deliver(payload)).toEqual({ action: 'release' });
    expect(finisher.finish).not.toHaveBeenCalled();
  });

  it('defers without using an attempt when MongoDB is down, waiting about as long as the outage has lasted', async () => {
    ledger.begin.mockResolvedValue(deliveryStub.first);
    jobs.markProcessing.mockRejectedValue(mongoDown);
    ledger.blockedSince.mockResolvedValue(Date.now() - 8000);

    const verdict = await sut.deliver(payload);

    expect(verdict).toMatchObject({ action: 'defer' });
    expect((verdict as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(8000);
    expect(llm.generate).not.toHaveBeenCalled();
    expect(ledger.countVerdict).not.toHaveBeenCalled();
  });

  it('fails a job blocked by an outage past JOB_OUTAGE_MAX_MS, saying so', async () => {
    ledger.begin.mockResolvedValue(deliveryStub.first);
    jobs.markProcessing.mockRejectedValue(mongoDown);
    ledger.blockedSince.mockResolvedValue(Date.now() - 3_600_001);
    ledger.settle.mockImplementation(async (_id, outcome) => outcome);
    finisher.finish.mockResolvedValue({ ...jobStub.failed, error: 'Could not be processed: the database or Redis was unavailable for over 1 h' });

    expect(await sut.deliver(payload)).toEqual({ action: 'fail', message: expect.stringContaining('unavailable for over 1 h') });
    expect(ledger.settle).toHaveBeenCalledWith('job-1', { status: 'failed', attempts: 0, error: expect.stringContaining('unavailable') }, 1);
  });

  it('counts a retryable provider failure and retries with backoff', async () => {
    startsFirstDelivery();
    llm.generate.mockRejectedValue(new LlmServerError('LLM provider answered 500', 500));
    ledger.countVerdict.mockResolvedValue(1);
    jobs.markRetrying.mockResolvedValue(jobStub.requeued);

    expect(await sut.deliver(payload)).toEqual({ action: 'retry', delayMs: 1000, message: 'LLM provider answered 500' });
    expect(ledger.countVerdict).toHaveBeenCalledWith('job-1', 1, 'failures');
    expect(events.publish).toHaveBeenCalledWith('job_status', payload.userId, { jobId: 'job-1', status: 'queued', attempt: 1 }, { correlationId: 'corr-1' });
    expect(metrics.generationFailed).toHaveBeenCalledWith('offline', expect.any(LlmServerError));
    expect(metrics.generationFinished).not.toHaveBeenCalled();
  });

  it('writes the retry to the record before announcing it', async () => {
    startsFirstDelivery();
    llm.generate.mockRejectedValue(new LlmServerError('LLM provider answered 500', 500));
    ledger.countVerdict.mockResolvedValue(1);
    jobs.markRetrying.mockResolvedValue(jobStub.requeued);

    await sut.deliver(payload);

    // The last job_status is the retry's (the first one announced the attempt).
    const retryAnnounced = events.publish.mock.calls.map(([event]) => event).lastIndexOf('job_status');
    expect(jobs.markRetrying.mock.invocationCallOrder[0]).toBeLessThan(events.publish.mock.invocationCallOrder[retryAnnounced]);
  });

  it('fails the job on its last attempt with the attempts it really made', async () => {
    ledger.begin.mockResolvedValue(deliveryStub.third);
    jobs.markProcessing.mockResolvedValue({ ...jobStub.processing, attempts: 3 });
    ledger.startAttempt.mockResolvedValue(3);
    llm.generate.mockRejectedValue(new LlmServerError('LLM provider answered 500', 500));
    ledger.settle.mockImplementation(async (_id, outcome) => outcome);
    finisher.finish.mockResolvedValue(jobStub.failed);

    expect(await sut.deliver(payload)).toEqual({ action: 'fail', message: 'LLM provider answered 500' });
    expect(ledger.settle).toHaveBeenCalledWith('job-1', { status: 'failed', error: 'LLM provider answered 500', attempts: 3 }, 3);
    expect(ledger.countVerdict).not.toHaveBeenCalled();
  });

  it.each([
    [ABORT_SHUTDOWN, 'hand-back'],
    [ABORT_LOCK_LOST, 'release'],
  ])('an abort for %s gives the verdict %s and counts no failure', async (reason, action) => {
    startsFirstDelivery();
    const controller = new AbortController();
    llm.generate.mockImplementation(async () => {
      controller.abort(reason);
      throw controller.signal.reason;
    });
    expect(await sut.deliver(payload, { signal: controller.signal })).toEqual({ action });
    expect(ledger.countVerdict).not.toHaveBeenCalled();
  });

  it('fails a job BullMQ gave up on, unless an outcome was already kept (which then wins)', async () => {
    ledger.read.mockResolvedValue({ done: false, attempts: 2 });
    ledger.settle.mockResolvedValue(completedOutcome);
    finisher.finish.mockResolvedValue(jobStub.completed);

    await sut.giveUp(payload, 'workers stopped');

    expect(ledger.settle).toHaveBeenCalledWith('job-1', { status: 'failed', error: 'workers stopped', attempts: 2 });
    expect(finisher.finish).toHaveBeenCalledWith('job-1', completedOutcome);
  });

  describe('cancelled by the user', () => {
    const cancelDuringCall = (beforeAbort?: (onUsage?: (usage: typeof usageStub) => void) => void) => {
      const controller = new AbortController();
      jest.spyOn(generator, 'generate').mockImplementation(async (_job, options) => {
        beforeAbort?.(options.onUsage);
        controller.abort(ABORT_CANCELLED);
        throw new DOMException('This operation was aborted', 'AbortError');
      });
      return controller.signal;
    };

    it('ends the delivery with the cancel the API kept, and records what the finished calls cost', async () => {
      startsFirstDelivery();
      const signal = cancelDuringCall((onUsage) => onUsage?.(usageStub));
      ledger.read.mockResolvedValue({ done: false, attempts: 1, outcome: cancelledOutcome });
      finisher.finish.mockResolvedValue(jobStub.cancelled);
      jobs.recordCancelledUsage.mockResolvedValue(true);
      finisher.recordCancelledUsage.mockResolvedValue();

      expect(await sut.deliver(payload, { signal })).toEqual({ action: 'done' });

      expect(finisher.finish).toHaveBeenCalledWith('job-1', cancelledOutcome);
      expect(finisher.recordCancelledUsage).toHaveBeenCalledWith('job-1', usageStub);
      expect(jobs.recordCancelledUsage).toHaveBeenCalledWith('job-1', usageStub);
      expect(jobs.recordCancelledUsage.mock.invocationCallOrder[0]).toBeGreaterThan(finisher.finish.mock.invocationCallOrder[0]);
      expect(ledger.countVerdict).not.toHaveBeenCalled();
      expect(jobs.markRetrying).not.toHaveBeenCalled();
      // `processing` is announced only while the job's `cancelled` is not, checked in one Redis step.
      expect(events.publish).toHaveBeenCalledWith('job_status', jobStub.processing.userId, { jobId: 'job-1', status: 'processing', attempt: 1 }, { correlationId: 'corr-1', unless: 'job-1:status:cancelled' });
    });

    it('records no usage when the aborted call was the first (its cost is unknown)', async () => {
      startsFirstDelivery();
      const signal = cancelDuringCall();
      ledger.read.mockResolvedValue({ done: false, attempts: 1, outcome: cancelledOutcome });
      finisher.finish.mockResolvedValue(jobStub.cancelled);

      expect(await sut.deliver(payload, { signal })).toEqual({ action: 'done' });
      expect(jobs.recordCancelledUsage).not.toHaveBeenCalled();
    });

    it('completes the BullMQ job of a deleted job (its ledger went with the record)', async () => {
      startsFirstDelivery();
      const signal = cancelDuringCall();
      ledger.read.mockResolvedValue({ done: false, attempts: 0 });

      expect(await sut.deliver(payload, { signal })).toEqual({ action: 'done' });
      expect(finisher.finish).not.toHaveBeenCalled();
    });

    it('keeps the cancel, and the answer’s cost, when the answer arrives just after it', async () => {
      startsFirstDelivery();
      jest.spyOn(generator, 'generate').mockResolvedValue({ generatedContent: 'Hello world', provider: 'offline', model: 'offline', durationMs: 5, usage: usageStub });
      ledger.settle.mockResolvedValue(cancelledOutcome);
      finisher.finish.mockResolvedValue(jobStub.cancelled);
      jobs.recordCancelledUsage.mockResolvedValue(true);
      finisher.recordCancelledUsage.mockResolvedValue();

      expect(await sut.deliver(payload)).toEqual({ action: 'done' });

      expect(finisher.finish).toHaveBeenCalledWith('job-1', cancelledOutcome);
      expect(jobs.recordCancelledUsage).toHaveBeenCalledWith('job-1', usageStub);
    });

    it('never calls the provider when the cancel came before the call started', async () => {
      startsFirstDelivery();
      ledger.startAttempt.mockResolvedValue(undefined);
      ledger.read.mockResolvedValue({ done: false, attempts: 0, outcome: { status: 'cancelled', attempts: 0 } });
      finisher.finish.mockResolvedValue(jobStub.cancelled);

      expect(await sut.deliver(payload)).toEqual({ action: 'done' });
      expect(llm.generate).not.toHaveBeenCalled();
      expect(finisher.finish).toHaveBeenCalledWith('job-1', { status: 'cancelled', attempts: 0 });
    });

    it('only brings home a job cancelled before its delivery began', async () => {
      ledger.begin.mockResolvedValue({ ...deliveryStub.first, outcome: { status: 'cancelled', attempts: 0 } });
      finisher.finish.mockResolvedValue(jobStub.cancelled);

      expect(await sut.deliver(payload)).toEqual({ action: 'done' });
      expect(jobs.markProcessing).not.toHaveBeenCalled();
      expect(llm.generate).not.toHaveBeenCalled();
    });

    it('brings home a record cancelled after the ledger forgot it', async () => {
      ledger.begin.mockResolvedValue(deliveryStub.first);
      jobs.markProcessing.mockResolvedValue(undefined);
      jobs.findByJobId.mockResolvedValue(jobStub.cancelled);
      ledger.settle.mockImplementation(async (_id, outcome) => outcome);
      finisher.finish.mockResolvedValue(jobStub.cancelled);

      expect(await sut.deliver(payload)).toEqual({ action: 'done' });
      expect(ledger.settle).toHaveBeenCalledWith('job-1', { status: 'cancelled', attempts: 1 });
    });
  });
});
