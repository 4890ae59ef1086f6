import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodePageCursor, DomainError, encodePageCursor, invalidArgument, isDependencyDown, UUID_TEXT } from '@app/common';
import { generationConfig, GenerationConfig, mongoConfig, MongoConfig } from '@app/config';
import { ContentItem, ContentService } from '@app/content';
import { activeTraceId } from '@app/tracing';
import { checkedIdempotencyKey, idempotencyConflict, IdempotencyClaim, IdempotencyRepository, replayed } from './idempotency.repository';
import { JobQueue } from './job.queue';
import { JobRepository } from './job.repository';
import { JobSlotsRepository } from './job-slots.repository';
import { JobRateLimits } from './limits/job-rate-limits.service';
import { fingerprintOf, JobAsk, JobSpecs } from './job-spec';
import { JobView } from './job.types';

/** How long a generation usually takes once picked up; only an estimate for clients. */
const ESTIMATED_GENERATION_MS = 15_000;

export interface EnqueueCommand extends JobAsk {
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

export interface JobPage {
  /** Streamed from the database as they are read. */
  items: AsyncIterable<JobView>;
  nextCursor?: string;
}

export interface SavedJob {
  message: string;
  content: ContentItem;
}

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobRepository,
    private readonly slots: JobSlotsRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly queue: JobQueue,
    private readonly content: ContentService,
    private readonly specs: JobSpecs,
    private readonly rateLimits: JobRateLimits,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
    @Inject(mongoConfig.KEY) private readonly mongo: MongoConfig,
  ) {}

  /**
   * Command: claim the Idempotency-Key, the user's rate windows (RATE_LIMITED beyond) and a slot in Redis,
   * write the record (the one database write), then queue it. A queue that refuses leaves no job, slot,
   * window entry or claim behind.
   */
  async enqueue(command: EnqueueCommand): Promise<EnqueueResult> {
    const key = checkedIdempotencyKey(command.idempotencyKey);
    const spec = await this.specs.resolve(command);
    const jobId = randomUUID();
    const claim: IdempotencyClaim = { jobId, fingerprint: fingerprintOf(spec) };
    if (key) {
      const earlier = await this.idempotency.claim(command.userId, key, claim);
      if (earlier) return this.replayClaim(command, claim, earlier);
    }
    const undo = async () => {
      await this.rateLimits.refund(command.userId, jobId, 1);
      await this.slots.release(command.userId, jobId);
      if (key) await this.idempotency.release(command.userId, key, claim);
    };
    let place: number;
    try {
      await this.rateLimits.admit(command.userId, jobId, 1);
      place = await this.acquireSlot(command.userId, jobId);
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    }

    const correlationId = command.correlationId ?? jobId;
    const scheduledFor = new Date(Date.now() + this.config.delayMs);
    let job: JobView | undefined;
    try {
      job = await this.jobs.create({
        jobId,
        userId: command.userId,
        ...spec,
        scheduledFor,
        correlationId,
        traceId: activeTraceId(),
        idempotencyKey: key ? `${command.userId}:${key}` : `none:${jobId}`,
      });
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    }
    if (!job) {
      // The unique index caught a key whose Redis claim had expired: answer with the job it created.
      await undo();
      const existing = await this.jobs.findByIdempotencyKey(`${command.userId}:${key}`);
      if (!existing) throw new DomainError('DEPENDENCY_UNAVAILABLE', 'Could not record the job, try again shortly');
      return this.replay(existing, claim);
    }

    try {
      await this.queue.addGeneration({ jobId, userId: command.userId, correlationId }, this.config.delayMs, place);
    } catch (error) {
      await this.rollback(jobId, error, undo);
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

  /** Newest first: without `limit` every job up to LIST_MAX_ITEMS, else one page; `nextCursor` when more follow. */
  async list(userId: string, options: { limit?: number; cursor?: string } = {}): Promise<JobPage> {
    const after = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, UUID_TEXT);
    const page = await this.jobs.page(userId, { limit: options.limit ?? this.mongo.listMaxItems, after });
    return { items: page.items, nextCursor: page.next && encodePageCursor(page.next) };
  }

  /**
   * Command: keep a completed job's text in the library (`variant`: which of its answers, 0 = the first);
   * saving the same answer twice returns the same item.
   */
  async save(userId: string, jobId: string, request: { title?: string; variant?: number } = {}): Promise<SavedJob> {
    const job = await this.get(userId, jobId);
    if (job.status !== 'completed' || job.generatedContent === undefined) {
      throw new DomainError('JOB_NOT_COMPLETED', `Job is ${job.status}; only completed jobs can be saved`, { currentStatus: job.status });
    }
    const variant = request.variant ?? 0;
    const answers = job.variants ?? [job.generatedContent];
    if (variant >= answers.length) throw invalidArgument('variant', `variant must be an index of this job's ${answers.length} variant(s): 0 to ${answers.length - 1}`);
    const { item, created } = await this.content.saveFromJob({
      userId,
      jobId,
      variant,
      title: request.title ?? `Generated: ${job.prompt.slice(0, 50)}...`,
      type: job.contentType,
      body: answers[variant],
      provider: job.provider,
      model: job.model,
      usage: job.usage,
    });
    return { message: created ? 'Content saved to your library' : 'Content was already saved', content: item };
  }

  /**
   * One of the user's unfinished-job slots; at the cap, slots whose job ended without freeing them are
   * freed first. Returns the job's place among the user's unfinished jobs (its queue priority).
   * TOO_MANY_ACTIVE_JOBS beyond (also for an admin's retry of a failed job).
   */
  async acquireSlot(userId: string, jobId: string): Promise<number> {
    const cap = this.config.maxActiveJobsPerUser;
    const place = await this.slots.acquire(userId, jobId, cap);
    if (place > 0) return place;
    if ((await this.freeLeakedSlots(userId)) > 0) {
      const placeAfterFreeing = await this.slots.acquire(userId, jobId, cap);
      if (placeAfterFreeing > 0) return placeAfterFreeing;
    }
    throw new DomainError('TOO_MANY_ACTIVE_JOBS', `You already have ${cap} unfinished jobs; wait for one to finish`, { limit: cap });
  }

  /** Frees slots older than the reconciler's grace whose record is finished or missing (a crash between the two writes). */
  private async freeLeakedSlots(userId: string): Promise<number> {
    const takenBefore = Date.now() - this.config.reconcileGraceMs;
    let freed = 0;
    // Normal slots only: freeing a batch slot cannot make room under MAX_ACTIVE_JOBS_PER_USER.
    for (const slot of await this.slots.normalSlots(userId)) {
      if (slot.takenAt >= takenBefore || (await this.jobs.isFinished(slot.jobId)) === false) continue;
      await this.slots.release(userId, slot.jobId);
      freed++;
    }
    return freed;
  }

  /** A request with a key already claimed: the same request gets the first job, a different one 422. */
  private async replayClaim(command: EnqueueCommand, mine: IdempotencyClaim, earlier: IdempotencyClaim): Promise<EnqueueResult> {
    return this.accepted(await replayed(mine, earlier, () => this.jobs.findOwned(command.userId, earlier.jobId)));
  }

  private replay(job: JobView, claim: IdempotencyClaim): EnqueueResult {
    if (fingerprintOf(job) !== claim.fingerprint) throw idempotencyConflict();
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

  private async rollback(jobId: string, cause: unknown, undo: () => Promise<void>): Promise<void> {
    this.logger.warn(`Queue refused job ${jobId} (${(cause as Error).message}); removing its record`);
    try {
      await this.jobs.delete(jobId);
    } catch (error) {
      // The database is failing too: at least do not leave the record queued forever, nor holding the key.
      if (!isDependencyDown(error)) throw error;
      await this.jobs.markUnqueued(jobId, 'Could not be queued').catch(() => undefined);
    }
    // Redis refused the add, so this may fail too: the reconciler frees the slot later.
    await undo().catch(() => undefined);
  }
}
