import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ContentType, DomainError, isDependencyDown } from '@app/common';
import { generationConfig, GenerationConfig } from '@app/config';
import { ContentService } from '@app/content';
import { JobQueue } from './job.queue';
import { JobQuotaRepository } from './job-quota.repository';
import { JobRepository } from './job.repository';
import { JobView } from './job.types';

/** How long a generation usually takes once picked up; only an estimate for clients. */
const ESTIMATED_GENERATION_MS = 15_000;
const IDEMPOTENCY_KEY = /^[\w.:-]{1,128}$/;

export interface EnqueueCommand {
  userId: string;
  prompt: string;
  contentType: ContentType;
  idempotencyKey?: string;
  correlationId?: string;
}

export interface EnqueueResult {
  message: string;
  jobId: string;
  status: 'queued';
  delaySeconds: number;
  scheduledFor: Date;
  estimatedCompletionTime: Date;
}

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly quotas: JobQuotaRepository,
    private readonly queue: JobQueue,
    private readonly content: ContentService,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  /** Command: record the job, then queue it; a queue that refuses leaves no job behind. */
  async enqueue(command: EnqueueCommand): Promise<EnqueueResult> {
    if (command.prompt.length > this.config.maxPromptLength) {
      throw new DomainError('INVALID_ARGUMENT', `prompt must be at most ${this.config.maxPromptLength} characters`, {
        details: [{ field: 'prompt', errors: [`prompt must be at most ${this.config.maxPromptLength} characters`] }],
      });
    }
    const idempotencyKey = this.idempotencyKeyOf(command);
    if (idempotencyKey) {
      const existing = await this.jobs.findByIdempotencyKey(idempotencyKey);
      if (existing) return this.replay(existing, command);
    }
    await this.acquireSlot(command.userId);

    const jobId = randomUUID();
    const correlationId = command.correlationId ?? jobId;
    const scheduledFor = new Date(Date.now() + this.config.delayMs);
    const job = await this.jobs.create({
      jobId,
      userId: command.userId,
      prompt: command.prompt,
      contentType: command.contentType,
      scheduledFor,
      correlationId,
      idempotencyKey: idempotencyKey ?? `none:${jobId}`,
    });
    if (!job) {
      // A racing retry with the same key inserted first: answer with its job.
      await this.quotas.release(command.userId);
      return this.replay((await this.jobs.findByIdempotencyKey(idempotencyKey!))!, command);
    }

    try {
      await this.queue.addGeneration({ jobId, userId: command.userId, correlationId }, this.config.delayMs);
    } catch (error) {
      await this.rollback(command.userId, jobId, error);
      throw new DomainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly');
    }
    return this.accepted(job);
  }

  /** Query: the caller's job or JOB_NOT_FOUND (another user's id looks missing too). */
  async get(userId: string, jobId: string): Promise<JobView> {
    const job = await this.jobs.findOwned(userId, jobId);
    if (!job) throw new DomainError('JOB_NOT_FOUND', 'Job not found');
    return job;
  }

  list(userId: string, limit = 50): Promise<JobView[]> {
    return this.jobs.listOwned(userId, limit);
  }

  /** Command: keep a completed job's text in the library; saving twice returns the same item. */
  async save(userId: string, jobId: string, title?: string) {
    const job = await this.get(userId, jobId);
    if (job.status !== 'completed' || job.generatedContent === undefined) {
      throw new DomainError('JOB_NOT_COMPLETED', `Job is ${job.status}; only completed jobs can be saved`, { currentStatus: job.status });
    }
    const { item, created } = await this.content.saveFromJob({
      userId,
      jobId,
      title: title ?? `Generated: ${job.prompt.slice(0, 50)}...`,
      type: job.contentType,
      body: job.generatedContent,
      provider: job.provider,
      model: job.model,
      usage: job.usage,
    });
    return { message: created ? 'Content saved to your library' : 'Content was already saved', content: item };
  }

  /** One of the user's unfinished-job slots; at the cap the real count decides (the counter may have drifted). */
  private async acquireSlot(userId: string): Promise<void> {
    const cap = this.config.maxActiveJobsPerUser;
    if (await this.quotas.tryAcquire(userId, cap)) return;
    const unfinished = await this.jobs.countUnfinished(userId);
    if (unfinished >= cap) {
      throw new DomainError('TOO_MANY_ACTIVE_JOBS', `You already have ${unfinished} unfinished jobs; wait for one to finish`, { limit: cap });
    }
    await this.quotas.reset(userId, unfinished + 1);
  }

  private idempotencyKeyOf(command: EnqueueCommand): string | undefined {
    if (command.idempotencyKey === undefined) return undefined;
    if (!IDEMPOTENCY_KEY.test(command.idempotencyKey)) {
      throw new DomainError('INVALID_ARGUMENT', 'Idempotency-Key must be 1-128 letters, digits or ._:-', {
        details: [{ field: 'Idempotency-Key', errors: ['must be 1-128 letters, digits or ._:-'] }],
      });
    }
    return `${command.userId}:${command.idempotencyKey}`;
  }

  private replay(job: JobView, command: EnqueueCommand): EnqueueResult {
    if (job.prompt !== command.prompt || job.contentType !== command.contentType) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was used for a different request');
    }
    return this.accepted(job);
  }

  private accepted(job: JobView): EnqueueResult {
    const scheduledFor = new Date(job.scheduledFor);
    return {
      message: 'Content generation job queued',
      jobId: job.jobId,
      status: 'queued',
      delaySeconds: Math.round(this.config.delayMs / 1000),
      scheduledFor,
      estimatedCompletionTime: new Date(scheduledFor.getTime() + ESTIMATED_GENERATION_MS),
    };
  }

  private async rollback(userId: string, jobId: string, cause: unknown): Promise<void> {
    this.logger.warn(`Queue refused job ${jobId} (${(cause as Error).message}); removing its record`);
    try {
      await this.jobs.delete(jobId);
      await this.quotas.release(userId);
    } catch (error) {
      // The database is failing too: at least do not leave the record queued forever.
      if (!isDependencyDown(error)) throw error;
      await this.jobs.markFailed(jobId, 'Could not be queued').catch(() => undefined);
    }
  }
}
