import { setTimeout as sleep } from 'node:timers/promises';
import { BeforeApplicationShutdown, Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { generationConfig, GenerationConfig } from '@app/config';
import { GENERATION_QUEUE, GenerationService, isRetryable, JobName, JobPayloadMap, safeErrorMessage } from '@app/jobs';
import { LlmError } from '@app/openrouter';
import { workerOptions } from './worker-options';

type GenerateJob = Job<JobPayloadMap['generate']>;
type Handlers = { [Name in JobName]: (job: Job<JobPayloadMap[Name]>) => Promise<void> };

/** A provider that keeps answering Retry-After eventually costs attempts, so a job cannot wait forever. */
const MAX_DEFERRALS = 5;

/** Turns BullMQ deliveries into GenerationService calls and maps outcomes to BullMQ's retry semantics. */
@Processor(GENERATION_QUEUE, workerOptions())
export class GenerationProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GenerationProcessor.name);

  constructor(
    private readonly generation: GenerationService,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.logger.log(`Processing "${GENERATION_QUEUE}" with concurrency ${this.config.concurrency}`);
  }

  /** Every job name must have a handler here: a missing one fails the build. */
  private readonly handlers: Handlers = { generate: (job) => this.generate(job) };

  process(job: Job): Promise<void> {
    const handler = this.handlers[job.name as JobName];
    if (!handler) throw new UnrecoverableError(`No handler for job "${job.name}"`);
    return handler(job);
  }

  private async generate(job: GenerateJob): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? this.generation.maxAttempts;
    try {
      await this.generation.run(job.data, attempt);
    } catch (error) {
      // Deliveries that ended in a Retry-After pause rather than a counted attempt.
      const deferrals = job.attemptsStarted - job.attemptsMade - 1;
      const waitMs = error instanceof LlmError && error.retryable ? (error.retryAfterMs ?? 0) : 0;
      if (waitMs > 0 && deferrals < MAX_DEFERRALS) {
        // The provider asked us to wait: pause the queue that long instead of burning an attempt.
        await this.generation.recordFailure(job.data, error, attempt, false);
        await this.worker.rateLimit(waitMs);
        throw Worker.RateLimitError();
      }
      const final = !isRetryable(error) || attempt >= maxAttempts;
      await this.generation.recordFailure(job.data, error, attempt, final);
      if (!isRetryable(error)) throw new UnrecoverableError(safeErrorMessage(error));
      throw error;
    }
  }

  /**
   * Safety net: whenever BullMQ gives a job up for good (attempts used, unrecoverable, or stalled too
   * often, which fails it without running this processor), its record must end too. A no-op when the
   * processor already recorded the failure.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: GenerateJob | undefined, error: Error): Promise<void> {
    if (!job || !isFinalFailure(job, error)) return;
    await this.generation.failIfUnfinished(job.data, safeErrorMessage(error)).catch((cause: Error) =>
      this.logger.error(`Could not record failure of ${job.id}: ${cause.message}`),
    );
  }

  /** Drain on SIGTERM: take no new jobs and give active ones a bounded time; after it, leave them to stall recovery. */
  async beforeApplicationShutdown(): Promise<void> {
    const drained = this.worker.close().then(() => true);
    const finished = await Promise.race([drained, sleep(this.config.shutdownTimeoutMs).then(() => false)]);
    if (!finished) {
      this.logger.warn(`Active jobs still running after ${this.config.shutdownTimeoutMs} ms; another worker will pick them up`);
      await this.worker.close(true);
    }
  }
}

function isFinalFailure(job: Job, error: Error): boolean {
  return error instanceof UnrecoverableError || /stalled/i.test(error.message) || job.attemptsMade >= (job.opts.attempts ?? 1);
}
