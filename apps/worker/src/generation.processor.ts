import { BeforeApplicationShutdown, Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job, RateLimitError, UnrecoverableError, Worker } from 'bullmq';
import { generationConfig, GenerationConfig } from '@app/config';
import {
  ABORT_CANCELLED,
  ABORT_LOCK_LOST,
  ABORT_SHUTDOWN,
  describeQueueFailure,
  GENERATION_QUEUE,
  GenerationService,
  JobCancelSignals,
  JobName,
  JobPayloadMap,
  Verdict,
} from '@app/jobs';
import { inConsumerSpan } from '@app/tracing';
import { settlesWithin } from './settles-within';
import { generationWorkerOptions } from './worker-options';

type GenerateJob = Job<JobPayloadMap['generate']>;
type Handlers = { [Name in JobName]: (job: Job<JobPayloadMap[Name]>, token?: string, signal?: AbortSignal) => Promise<void> };

/** After the shutdown timeout, aborted deliveries get this long to hand their jobs back. */
const HAND_BACK_MS = 700;

/** A failure the record already holds: BullMQ's failed hook has nothing left to do. */
class RecordedFailure extends UnrecoverableError {}

/** Turns BullMQ deliveries into GenerationService calls, and its verdicts into BullMQ calls. */
@Processor(GENERATION_QUEUE, generationWorkerOptions())
export class GenerationProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GenerationProcessor.name);

  constructor(
    private readonly generation: GenerationService,
    private readonly cancels: JobCancelSignals,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.logger.log(`Processing "${GENERATION_QUEUE}" with concurrency ${this.config.concurrency}`);
    // Not awaited: with Redis down the subscription waits for it, and start-up must not.
    void this.cancels.listen((jobId) => this.onCancelled(jobId));
  }

  /** A user cancelled a job: if this worker holds it, its delivery stops (the provider call is aborted) and ends with the cancel. */
  onCancelled(jobId: string): void {
    if (this.worker.cancelJob(jobId, ABORT_CANCELLED)) this.logger.log({ msg: 'job cancelled by its user; stopping its delivery', jobId });
  }

  /** Every job name must have a handler here: a missing one fails the build. */
  private readonly handlers: Handlers = { generate: (job, token, signal) => this.generate(job, token, signal) };

  // Three parameters: BullMQ passes the abort signal only to processors that declare it.
  process(job: Job, token?: string, signal?: AbortSignal): Promise<void> {
    const handler = this.handlers[job.name as JobName];
    if (!handler) throw new UnrecoverableError(`No handler for job "${job.name}"`);
    return handler(job, token, signal);
  }

  /** In a span that continues the trace of the request that queued the job. */
  private generate(job: GenerateJob, token?: string, signal?: AbortSignal): Promise<void> {
    const { jobId, correlationId } = job.data;
    return inConsumerSpan(
      { queue: GENERATION_QUEUE, jobId, correlationId },
      job.data,
      async (span) => {
        const verdict = await this.generation.deliver(job.data, { signal });
        span.setAttribute('aicg.verdict', verdict.action);
        await this.apply(job, token, verdict);
      },
      // Moving the job back to the queue is how BullMQ is told "later", not a failure.
      (error) => !(error instanceof DelayedError) && !(error instanceof RateLimitError),
    );
  }

  private async apply(job: GenerateJob, token: string | undefined, verdict: Verdict): Promise<void> {
    switch (verdict.action) {
      case 'done':
        return;
      case 'fail':
        throw new RecordedFailure(verdict.message);
      case 'pause':
        // The provider's Retry-After holds the whole queue: every job would get the same answer.
        await this.worker.rateLimit(verdict.delayMs);
        throw Worker.RateLimitError();
      case 'retry':
      case 'defer':
        await this.moveToDelayed(job, token, verdict.delayMs);
        throw new DelayedError();
      case 'hand-back':
        await this.moveToDelayed(job, token, 0);
        throw new DelayedError();
      case 'release':
        // Another delivery owns the job: leave BullMQ's entry to it.
        throw new DelayedError();
    }
  }

  /** Runs the job again later without using a BullMQ attempt; with Redis down the lock runs out and stall recovery does it. */
  private async moveToDelayed(job: GenerateJob, token: string | undefined, delayMs: number): Promise<void> {
    await job.moveToDelayed(Date.now() + delayMs, token).catch((error: Error) => this.logger.warn(`Could not delay job ${job.id}: ${error.message}`));
  }

  /** A worker that lost a job's lock (it froze, or Redis was away) stops its provider call at once: another worker has the job. */
  @OnWorkerEvent('lockRenewalFailed')
  onLockLost(jobIds: string[]): void {
    for (const jobId of jobIds) {
      this.logger.warn({ msg: 'lost the lock of a job; stopping its delivery', jobId });
      this.worker.cancelJob(jobId, ABORT_LOCK_LOST);
    }
  }

  @OnWorkerEvent('stalled')
  onStalled(jobId: string): void {
    this.logger.warn({ msg: 'job stalled: its worker stopped or froze; it is handed out again', jobId });
  }

  /** Safety net: whenever BullMQ fails a job by itself (stalled too often, an escaped error), its record must end too. */
  @OnWorkerEvent('failed')
  async onFailed(job: GenerateJob | undefined, error: Error): Promise<void> {
    if (!job || error instanceof RecordedFailure) return;
    if (!(error instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1)) return;
    // The reconciler finishes it later should MongoDB or Redis be down now.
    await this.generation
      .giveUp(job.data, describeQueueFailure(error.message, job.stalledCounter))
      .catch((cause: Error) => this.logger.error({ msg: 'could not record a job the queue gave up; the reconciler will', jobId: job.id, error: cause.message }));
  }

  /** SIGTERM: take no new jobs, give active ones the shutdown timeout, then abort their provider calls and hand them back. */
  async beforeApplicationShutdown(): Promise<void> {
    const closed = this.worker.close();
    if (await settlesWithin(closed, this.config.shutdownTimeoutMs)) return;
    this.logger.warn(`Active jobs still running after ${this.config.shutdownTimeoutMs} ms: handing them back`);
    this.worker.cancelAllJobs(ABORT_SHUTDOWN);
    await settlesWithin(closed, HAND_BACK_MS);
  }
}
