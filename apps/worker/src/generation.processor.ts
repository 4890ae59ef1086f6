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
      if (error instanceof LlmError && error.retryable && error.retryAfterMs !== undefined) {
        // The provider asked us to wait: pause the queue that long instead of burning an attempt.
        await this.generation.recordFailure(job.data, error, attempt, false);
        await this.worker.rateLimit(error.retryAfterMs);
        throw Worker.RateLimitError();
      }
      const final = !isRetryable(error) || attempt >= maxAttempts;
      await this.generation.recordFailure(job.data, error, attempt, final);
      if (!isRetryable(error)) throw new UnrecoverableError(safeErrorMessage(error));
      throw error;
    }
  }

  /** BullMQ can fail a job without running it (stalled too many times); the record must still end. */
  @OnWorkerEvent('failed')
  async onFailed(job: GenerateJob | undefined, error: Error): Promise<void> {
    if (!job || !/stalled/i.test(error.message)) return;
    await this.generation.failIfUnfinished(job.data, 'The job was interrupted too many times').catch((cause: Error) =>
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
