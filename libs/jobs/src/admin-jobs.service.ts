import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodePageCursor, DomainError, encodePageCursor, PagePosition, UUID_TEXT } from '@app/common';
import { generationConfig, GenerationConfig } from '@app/config';
import { PubSubService } from '@app/pubsub';
import { AdminJobsRepository, AdminJobView, JobPosition } from './admin-jobs.repository';
import { JobLedgerRepository } from './job-ledger.repository';
import { JobQueue } from './job.queue';
import { JobSlotsRepository } from './job-slots.repository';
import { JobStatus } from './job.types';
import { JobsService } from './jobs.service';

export const ADMIN_JOBS_DEFAULT_PAGE_SIZE = 50;
export const ADMIN_JOBS_MAX_PAGE_SIZE = 100;
const DAY_MS = 24 * 3600_000;
/** Completed jobs read for the duration percentiles: the most recent ones of the last 24 h. */
const DURATION_SAMPLE = 1000;

export interface AdminJobPage {
  jobs: AdminJobView[];
  /** Set when there are more jobs after this page. */
  nextCursor?: string;
}

export interface RetriedJob {
  message: string;
  jobId: string;
  status: 'queued';
  retries: number;
}

export interface AdminStats {
  /** Jobs BullMQ holds, per state. */
  queue: Record<string, number>;
  /** Jobs that finished in the last 24 h, per status. */
  finishedLast24h: { completed: number; failed: number };
  /** Of completed jobs of the last 24 h (the most recent DURATION_SAMPLE): the generation's durationMs, else completedAt - createdAt. */
  durationMs: { p50: number | null; p95: number | null; sampleSize: number };
  /** Workers connected to the queue. */
  workers: number;
  /** The global rate limit of job starts (RATE_LIMIT_MAX per RATE_LIMIT_DURATION_MS); null when off. */
  rateLimit: { max: number; durationMs: number } | null;
}

/** Every user's jobs, for admins: queries, the queue's numbers, and the retry of a failed job. */
@Injectable()
export class AdminJobsService {
  private readonly logger = new Logger(AdminJobsService.name);

  constructor(
    private readonly jobs: AdminJobsRepository,
    private readonly userJobs: JobsService,
    private readonly slots: JobSlotsRepository,
    private readonly ledger: JobLedgerRepository,
    private readonly queue: JobQueue,
    private readonly events: PubSubService,
    @Inject(generationConfig.KEY) private readonly config: GenerationConfig,
  ) {}

  /** Query: newest first, paged by an opaque cursor as the library is. */
  async list(options: { status?: JobStatus; userId?: string; limit?: number; cursor?: string } = {}): Promise<AdminJobPage> {
    const limit = options.limit ?? ADMIN_JOBS_DEFAULT_PAGE_SIZE;
    const after = options.cursor === undefined ? undefined : jobPositionOf(decodePageCursor(options.cursor, UUID_TEXT));
    // One extra job tells whether a next page exists without a count.
    const jobs = await this.jobs.list({ status: options.status, userId: options.userId, limit: limit + 1, after });
    if (jobs.length <= limit) return { jobs };
    const page = jobs.slice(0, limit);
    return { jobs: page, nextCursor: encodePageCursor({ createdAt: page[page.length - 1].createdAt, id: page[page.length - 1].jobId }) };
  }

  async get(jobId: string): Promise<AdminJobView> {
    const job = await this.jobs.findById(jobId);
    if (!job) throw new DomainError('JOB_NOT_FOUND', 'Job not found');
    return job;
  }

  /**
   * Command: a failed job runs again under its jobId. The ledger is reopened first (the one exclusive
   * step, so racing retries cannot both win), then the owner's slot (429 at the cap, as an enqueue), the
   * record back to queued, BullMQ's failed entry replaced; each step is undone if a later one refuses.
   */
  async retry(jobId: string): Promise<RetriedJob> {
    const job = await this.get(jobId);
    if (job.status !== 'failed') throw notFailed(job.status);
    if (!(await this.ledger.reopen(jobId))) throw notFailed('failed', 'Job is still being finished or was retried already');
    try {
      await this.userJobs.acquireSlot(job.userId, jobId);
    } catch (error) {
      await this.ledger.markDone(jobId).catch(() => undefined);
      throw error;
    }
    const undo = async () => {
      await this.slots.release(job.userId, jobId);
      await this.ledger.markDone(jobId);
    };
    const retries = (job.retries ?? 0) + 1;
    const requeued = await this.jobs.markRequeued(jobId, retries).catch(async (error: unknown) => {
      await undo().catch(() => undefined);
      throw error;
    });
    if (!requeued) {
      await undo();
      throw notFailed('unknown', 'Job changed meanwhile; read it again');
    }
    try {
      await this.queue.requeue({ jobId, userId: job.userId, correlationId: job.correlationId });
    } catch (error) {
      this.logger.warn({ msg: 'could not queue a retried job again', jobId, correlationId: job.correlationId, error: (error as Error).message });
      await this.jobs.markFailedAgain(jobId, job.error, job.retries ?? 0).catch(() => undefined);
      await undo().catch(() => undefined);
      throw new DomainError('DEPENDENCY_UNAVAILABLE', 'The job queue is unavailable, try again shortly');
    }
    this.logger.log({ msg: 'job retried by an admin', jobId, correlationId: job.correlationId, retries });
    await this.events
      .publish('job_status', job.userId, { jobId, status: 'queued', attempt: requeued.attempts }, { correlationId: job.correlationId })
      .catch((error: Error) => this.logger.warn({ msg: 'could not announce a retried job', jobId, error: error.message }));
    return { message: 'Job queued again', jobId, status: 'queued', retries };
  }

  /** Query: the queue's numbers and the last 24 h of jobs (counts bounded by the database's time limit). */
  async stats(now = Date.now()): Promise<AdminStats> {
    const since = new Date(now - DAY_MS);
    const [queue, workers, completed, failed, sample] = await Promise.all([
      this.queue.counts(),
      this.queue.workerCount(),
      this.jobs.countFinishedSince('completed', since),
      this.jobs.countFinishedSince('failed', since),
      this.jobs.completedSince(since, DURATION_SAMPLE),
    ]);
    const durations = sample
      .map((job) => job.durationMs ?? (job.completedAt ? job.completedAt.getTime() - job.createdAt.getTime() : NaN))
      .filter((ms) => Number.isFinite(ms) && ms >= 0)
      .sort((a, b) => a - b);
    const { rateLimit } = this.config;
    return {
      queue,
      finishedLast24h: { completed, failed },
      durationMs: { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95), sampleSize: durations.length },
      workers,
      rateLimit: rateLimit ? { max: rateLimit.max, durationMs: rateLimit.duration } : null,
    };
  }
}

/** Nearest rank of sorted values; null without any. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function notFailed(currentStatus: string, message = `Job is ${currentStatus}; only failed jobs can be retried`): DomainError {
  return new DomainError('JOB_NOT_FAILED', message, { currentStatus });
}

function jobPositionOf(position: PagePosition): JobPosition {
  return { createdAt: position.createdAt, jobId: position.id };
}
