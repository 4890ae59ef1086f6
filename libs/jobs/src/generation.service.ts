import { Inject, Injectable, Logger } from '@nestjs/common';
import { generationConfig, GenerationConfig, realtimeConfig, RealtimeConfig } from '@app/config';
import { GenerationResult, LlmError, LlmProvider } from '@app/openrouter';
import { DeltaBatcher, PubSubService } from '@app/pubsub';
import { JobQuotaRepository } from './job-quota.repository';
import { JobRepository } from './job.repository';
import { JobPayloadMap, JobView } from './job.types';

type GeneratePayload = JobPayloadMap['generate'];
const MAX_ERROR_LENGTH = 200;

/** A short message that is safe to store and show: provider errors are already sanitised, others are not. */
export function safeErrorMessage(error: unknown): string {
  const message = error instanceof LlmError ? error.message : 'Content generation failed';
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}

export function isRetryable(error: unknown): boolean {
  // Anything that is not a typed provider refusal (database or Redis hiccups included) may pass on retry.
  return !(error instanceof LlmError) || error.retryable;
}

/**
 * One generation attempt and its bookkeeping: conditional status updates in MongoDB first, then the
 * events on Redis, so the database stays the source of truth.
 */
@Injectable()
export class GenerationService {
  private readonly logger = new Logger(GenerationService.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly quotas: JobQuotaRepository,
    private readonly llm: LlmProvider,
    private readonly events: PubSubService,
    @Inject(realtimeConfig.KEY) private readonly realtime: RealtimeConfig,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  get maxAttempts(): number {
    return this.config.attempts;
  }

  /** Runs attempt `attempt`; a job that already finished (a second delivery) is only re-announced if it never was. */
  async run(payload: GeneratePayload, attempt: number): Promise<void> {
    const job = await this.jobs.markProcessing(payload.jobId, attempt);
    if (!job) return this.announceIfNeeded(payload.jobId);
    await this.publishStatus(job, 'processing', attempt);

    const deltas = new DeltaBatcher({
      intervalMs: this.realtime.deltaIntervalMs,
      flush: (text, seq) => this.events.publish('job_delta', job.userId, { jobId: job.jobId, attempt, seq, text }, { correlationId: payload.correlationId }),
    });
    let result: GenerationResult;
    try {
      result = await this.llm.generate({
        prompt: job.prompt,
        contentType: job.contentType,
        correlationId: payload.correlationId,
        onDelta: (text) => deltas.push(text),
      });
    } finally {
      // Deltas are best-effort (job_completed carries the full text): a failed one must not cost the generation.
      await deltas.close().catch(() => undefined);
    }
    const completed = await this.jobs.markCompleted(job.jobId, {
      generatedContent: result.text,
      provider: result.provider,
      model: result.model,
      usage: result.usage,
      durationMs: result.durationMs,
      finishReason: result.finishReason,
      generationId: result.generationId,
    });
    if (!completed) return;
    await this.finished(completed, payload.correlationId);
    this.logger.log({ msg: 'job completed', jobId: job.jobId, correlationId: payload.correlationId, attempt, provider: result.provider, model: result.model, durationMs: result.durationMs });
  }

  /** Records a failed attempt: `final` makes the job failed and announces it; otherwise it waits for a retry. */
  async recordFailure(payload: GeneratePayload, error: unknown, attempt: number, final: boolean): Promise<void> {
    const message = safeErrorMessage(error);
    this.logger.warn({ msg: final ? 'job failed' : 'attempt failed, will retry', jobId: payload.jobId, correlationId: payload.correlationId, attempt, error: (error as Error)?.message });
    if (final) {
      const failed = await this.jobs.markFailed(payload.jobId, message, attempt);
      if (failed) await this.finished(failed, payload.correlationId);
      return;
    }
    const retrying = await this.jobs.markRetrying(payload.jobId, message);
    if (retrying) await this.publishStatus(retrying, 'retrying', attempt);
  }

  /** For a job BullMQ gave up on without running it (stalled too often): make sure it does not stay unfinished. */
  async failIfUnfinished(payload: GeneratePayload, reason: string): Promise<void> {
    const failed = await this.jobs.markFailed(payload.jobId, reason.slice(0, MAX_ERROR_LENGTH));
    if (failed) await this.finished(failed, payload.correlationId);
    else await this.announceIfNeeded(payload.jobId);
  }

  /** After the one transition to completed or failed: free the user's slot, then tell the user. */
  private async finished(job: JobView, correlationId: string): Promise<void> {
    await this.quotas.release(job.userId);
    await this.announce(job, correlationId);
  }

  private async announceIfNeeded(jobId: string): Promise<void> {
    const job = await this.jobs.findByJobId(jobId);
    if (job && (job.status === 'completed' || job.status === 'failed') && !job.announcedAt) await this.announce(job, job.correlationId);
  }

  private async announce(job: JobView, correlationId: string): Promise<void> {
    const status = job.status as 'completed' | 'failed';
    await this.publishStatus(job, status, job.attempts);
    await this.events.publish(
      'job_completed',
      job.userId,
      {
        userId: job.userId,
        jobId: job.jobId,
        status,
        ...(status === 'completed' ? { generatedContent: job.generatedContent } : { error: job.error }),
        completedAt: (job.completedAt ?? new Date()).toISOString(),
      },
      { correlationId },
    );
    await this.jobs.markAnnounced(job.jobId);
  }

  private publishStatus(job: JobView, status: 'processing' | 'retrying' | 'completed' | 'failed', attempt: number): Promise<void> {
    return this.events.publish('job_status', job.userId, { jobId: job.jobId, status, attempt });
  }
}
