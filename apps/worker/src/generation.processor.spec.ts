import { Logger } from '@nestjs/common';
import { DelayedError, Job, RateLimitError, UnrecoverableError, Worker } from 'bullmq';
import { GenerationConfig } from '@app/config';
import { ABORT_CANCELLED, ABORT_LOCK_LOST, ABORT_SHUTDOWN, GenerationService, JobCancelSignals, JobPayloadMap, Verdict } from '@app/jobs';
import { outageStub, strictMock } from '@app/testing';
import { GenerationProcessor } from './generation.processor';

type GenerateJob = Job<JobPayloadMap['generate']>;

const NOW = Date.parse('2026-01-01T00:00:00Z');
const TOKEN = 'lock-token-1';
const payload: JobPayloadMap['generate'] = { jobId: 'job-1', userId: '64b7f0c2a1b2c3d4e5f60718', correlationId: 'corr-1' };
const verdictStub = {
  done: { action: 'done' },
  fail: { action: 'fail', message: 'LLM provider answered 400' },
  retry: { action: 'retry', delayMs: 4000, message: 'LLM provider answered 500' },
  defer: { action: 'defer', delayMs: 30_000, message: 'A dependency (MongoDB or Redis) is unavailable' },
  pause: { action: 'pause', delayMs: 12_000, message: 'LLM provider answered 429' },
  handBack: { action: 'hand-back' },
  release: { action: 'release' },
} satisfies Record<string, Verdict>;

/** How a call ended: its error, or undefined when it resolved. */
async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe(GenerationProcessor.name, () => {
  let sut: GenerationProcessor;
  let generation: jest.Mocked<GenerationService>;
  let cancels: jest.Mocked<JobCancelSignals>;
  let worker: jest.Mocked<Worker>;
  let job: jest.Mocked<GenerateJob>;
  const config = { concurrency: 2, shutdownTimeoutMs: 20 } as GenerationConfig;

  beforeEach(() => {
    generation = strictMock(GenerationService);
    cancels = strictMock(JobCancelSignals);
    worker = strictMock<Worker>(Worker);
    job = Object.assign(strictMock<GenerateJob>(Job), { id: 'job-1', name: 'generate', data: payload, opts: { attempts: 3 }, attemptsMade: 1, stalledCounter: 0 });
    sut = new GenerationProcessor(generation, cancels, config);
    // What @nestjs/bullmq sets once the worker exists.
    Object.assign(sut, { _worker: worker });
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    for (const level of ['log', 'warn', 'error'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const delivering = (verdict: Verdict) => generation.deliver.mockResolvedValue(verdict);

  describe('process', () => {
    it('hands the payload and the abort signal to one GenerationService.deliver call', async () => {
      delivering(verdictStub.done);
      const signal = new AbortController().signal;

      await expect(sut.process(job, TOKEN, signal)).resolves.toBeUndefined();

      expect(generation.deliver).toHaveBeenCalledTimes(1);
      expect(generation.deliver).toHaveBeenCalledWith(payload, { signal });
    });

    it('refuses a job name without a handler, for good', () => {
      job.name = 'summarise';

      expect(() => sut.process(job, TOKEN)).toThrow(new UnrecoverableError('No handler for job "summarise"'));
      expect(generation.deliver).not.toHaveBeenCalled();
    });
  });

  describe('verdicts', () => {
    it('done: BullMQ completes the job', async () => {
      delivering(verdictStub.done);

      expect(await errorOf(sut.process(job, TOKEN))).toBeUndefined();
      expect(job.moveToDelayed).not.toHaveBeenCalled();
    });

    it('fail: fails the job for good with the message, without another attempt', async () => {
      delivering(verdictStub.fail);

      const error = await errorOf(sut.process(job, TOKEN));

      expect(error).toBeInstanceOf(UnrecoverableError);
      expect((error as Error).message).toBe('LLM provider answered 400');
      expect(job.moveToDelayed).not.toHaveBeenCalled();
    });

    it.each([
      ['retry', verdictStub.retry, NOW + 4000],
      ['defer', verdictStub.defer, NOW + 30_000],
      ['hand-back', verdictStub.handBack, NOW],
    ])('%s: moves the job to delayed until now + its delay, with the lock token, and tells BullMQ so', async (_action, verdict, runAt) => {
      delivering(verdict);
      job.moveToDelayed.mockResolvedValue();

      const error = await errorOf(sut.process(job, TOKEN));

      expect(job.moveToDelayed).toHaveBeenCalledTimes(1);
      expect(job.moveToDelayed).toHaveBeenCalledWith(runAt, TOKEN);
      expect(error).toBeInstanceOf(DelayedError);
    });

    it('retry: still ends the delivery as delayed when Redis refuses the move (stall recovery runs it again)', async () => {
      delivering(verdictStub.retry);
      job.moveToDelayed.mockRejectedValue(outageStub.redis);

      expect(await errorOf(sut.process(job, TOKEN))).toBeInstanceOf(DelayedError);
      expect(Logger.prototype.warn).toHaveBeenCalledWith('Could not delay job job-1: Connection is closed.');
    });

    it("pause: holds the whole queue for the provider's Retry-After, leaving the job where it is", async () => {
      delivering(verdictStub.pause);
      worker.rateLimit.mockResolvedValue();

      const error = await errorOf(sut.process(job, TOKEN));

      expect(worker.rateLimit).toHaveBeenCalledWith(12_000);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(job.moveToDelayed).not.toHaveBeenCalled();
    });

    it("release: leaves BullMQ's entry to the delivery that owns the job", async () => {
      delivering(verdictStub.release);

      expect(await errorOf(sut.process(job, TOKEN))).toBeInstanceOf(DelayedError);
      expect(job.moveToDelayed).not.toHaveBeenCalled();
      expect(worker.rateLimit).not.toHaveBeenCalled();
    });
  });

  describe('onFailed', () => {
    it('does nothing for a failure the record already holds', async () => {
      delivering(verdictStub.fail);
      const recorded = (await errorOf(sut.process(job, TOKEN))) as Error;

      await sut.onFailed(job, recorded);

      expect(generation.giveUp).not.toHaveBeenCalled();
    });

    it('does nothing while BullMQ has attempts left, or without a job', async () => {
      await sut.onFailed(job, new Error('escaped'));
      await sut.onFailed(undefined, new Error('escaped'));

      expect(generation.giveUp).not.toHaveBeenCalled();
    });

    it('ends the record when BullMQ used the last attempt', async () => {
      job.attemptsMade = 3;
      generation.giveUp.mockResolvedValue();

      await sut.onFailed(job, new Error('escaped'));

      expect(generation.giveUp).toHaveBeenCalledWith(payload, 'The job queue gave this job up: escaped');
    });

    it('ends the record of a job BullMQ failed for stalling too often, with the stall count', async () => {
      Object.assign(job, { stalledCounter: 2 });
      generation.giveUp.mockResolvedValue();

      await sut.onFailed(job, new UnrecoverableError('job stalled more than allowable limit'));

      expect(generation.giveUp).toHaveBeenCalledWith(payload, 'Generation was interrupted: the workers running this job stopped 2 times (crashed or froze)');
    });

    it('leaves the record to the reconciler when it cannot be written now', async () => {
      job.attemptsMade = 3;
      generation.giveUp.mockRejectedValue(new Error('connect ECONNREFUSED'));

      await expect(sut.onFailed(job, new Error('escaped'))).resolves.toBeUndefined();
      expect(Logger.prototype.error).toHaveBeenCalledWith(expect.objectContaining({ jobId: 'job-1', error: 'connect ECONNREFUSED' }));
    });
  });

  it('stops the delivery of every job whose lock was lost', () => {
    worker.cancelJob.mockReturnValue(true);

    sut.onLockLost(['job-1', 'job-2']);

    expect(worker.cancelJob.mock.calls).toEqual([
      ['job-1', ABORT_LOCK_LOST],
      ['job-2', ABORT_LOCK_LOST],
    ]);
  });

  it('listens for cancels at start-up and stops the delivery of a cancelled job it holds', () => {
    cancels.listen.mockResolvedValue();
    worker.cancelJob.mockReturnValueOnce(true).mockReturnValueOnce(false);

    sut.onApplicationBootstrap();
    const onCancel = cancels.listen.mock.calls[0][0];
    onCancel('job-1');
    onCancel('job-of-another-worker');

    expect(worker.cancelJob.mock.calls).toEqual([
      ['job-1', ABORT_CANCELLED],
      ['job-of-another-worker', ABORT_CANCELLED],
    ]);
  });

  describe('beforeApplicationShutdown', () => {
    it('lets the worker close when its jobs end within the shutdown timeout', async () => {
      worker.close.mockResolvedValue();

      await sut.beforeApplicationShutdown();

      expect(worker.close).toHaveBeenCalledTimes(1);
      expect(worker.cancelAllJobs).not.toHaveBeenCalled();
    });

    it('aborts the jobs still running after the shutdown timeout so they are handed back', async () => {
      let closed!: () => void;
      worker.close.mockReturnValue(new Promise<void>((resolve) => (closed = resolve)));
      worker.cancelAllJobs.mockImplementation(() => closed());

      await sut.beforeApplicationShutdown();

      expect(worker.cancelAllJobs).toHaveBeenCalledWith(ABORT_SHUTDOWN);
    });
  });
});
