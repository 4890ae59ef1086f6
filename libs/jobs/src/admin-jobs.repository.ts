import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, QueryFilter } from 'mongoose';
import { DomainError, parseObjectId } from '@app/common';
import { mongoConfig, MongoConfig } from '@app/config';
import { Job } from './job.schema';
import { JobStatus, JobView } from './job.types';

const HIDDEN = { idempotencyKey: 0, announcedAt: 0, generationId: 0 } as const;
/** The server's MaxTimeMSExpired: a query ran past maxTimeMS. */
const MAX_TIME_EXPIRED = 50;

/** A point in the newest-first order: list jobs strictly after it. */
export interface JobPosition {
  createdAt: Date;
  jobId: string;
}

/** A job as admins see it: the record plus the id that follows it through the logs. */
export type AdminJobView = JobView & { correlationId: string };

/** What the stats need of a finished record. */
export interface FinishedJob {
  status: JobStatus;
  durationMs?: number;
  createdAt: Date;
  completedAt?: Date;
}

/**
 * Every user's job records, for admins. FerretDB answers only filters on _id alone from an index, so
 * every query here is bounded twice: by a limit and by the server-side time limit (SEARCH_MAX_TIME_MS).
 */
@Injectable()
export class AdminJobsRepository {
  constructor(
    @InjectModel(Job.name) private readonly jobs: Model<Job>,
    @Inject(mongoConfig.KEY) private readonly config: MongoConfig,
  ) {}

  /** Newest first, optionally of one status and/or one user. */
  async list(options: { status?: JobStatus; userId?: string; limit: number; after?: JobPosition }): Promise<AdminJobView[]> {
    const filter: QueryFilter<Job> = {};
    if (options.status) filter.status = options.status;
    if (options.userId) {
      const owner = parseObjectId(options.userId);
      if (!owner) return [];
      filter.userId = owner;
    }
    if (options.after) {
      const { createdAt, jobId } = options.after;
      // Our own operators: trusted, so sanitizeFilter does not turn them into $eq.
      filter.$or = [{ createdAt: mongoose.trusted({ $lt: createdAt }) }, { createdAt, _id: mongoose.trusted({ $lt: jobId }) }];
    }
    const jobs = await this.bounded(() => this.jobs.find(filter, HIDDEN).sort({ createdAt: -1, _id: -1 }).limit(options.limit).maxTimeMS(this.config.queryMaxTimeMs).lean());
    return jobs.map(toAdminView);
  }

  async findById(jobId: string): Promise<AdminJobView | undefined> {
    const job = await this.jobs.findOne({ _id: jobId }, HIDDEN).lean();
    return job ? toAdminView(job) : undefined;
  }

  /** failed → queued for an admin's retry, counting the retry; undefined when the job is not failed (or gone). */
  async markRequeued(jobId: string, retries: number): Promise<AdminJobView | undefined> {
    const job = await this.jobs
      .findOneAndUpdate(
        { _id: jobId, status: 'failed' },
        { $set: { status: 'queued', retries, scheduledFor: new Date() }, $unset: { error: 1, completedAt: 1 } },
        { returnDocument: 'after' },
      )
      .lean();
    return job ? toAdminView(job) : undefined;
  }

  /** Puts back a retry that could not be queued: failed again, with its earlier error. */
  async markFailedAgain(jobId: string, error: string | undefined, retries: number): Promise<void> {
    await this.jobs.updateOne({ _id: jobId, status: 'queued' }, { $set: { status: 'failed', error: error ?? 'Could not be queued', completedAt: new Date(), retries } });
  }

  /** How many jobs finished with `status` since `since`. */
  async countFinishedSince(status: JobStatus, since: Date): Promise<number> {
    return this.bounded(() => this.jobs.countDocuments({ status, completedAt: mongoose.trusted({ $gte: since }) }).maxTimeMS(this.config.queryMaxTimeMs));
  }

  /** The most recent completed jobs since `since`, at most `limit` (a sample for duration percentiles). */
  async completedSince(since: Date, limit: number): Promise<FinishedJob[]> {
    const jobs = await this.bounded(() =>
      this.jobs
        .find({ status: 'completed', completedAt: mongoose.trusted({ $gte: since }) }, { status: 1, durationMs: 1, createdAt: 1, completedAt: 1 })
        .sort({ completedAt: -1 })
        .limit(limit)
        .maxTimeMS(this.config.queryMaxTimeMs)
        .lean(),
    );
    return jobs.map((job) => ({ status: job.status, durationMs: job.durationMs, createdAt: job.createdAt, completedAt: job.completedAt }));
  }

  /** A query past the time limit is DEPENDENCY_UNAVAILABLE: too broad for the database now, not a bug. */
  private async bounded<T>(query: () => PromiseLike<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      if ((error as { code?: unknown }).code === MAX_TIME_EXPIRED) throw new DomainError('DEPENDENCY_UNAVAILABLE', 'The query took too long; narrow it down');
      throw error;
    }
  }
}

function toAdminView(job: Partial<Job> & { _id: unknown; announcedAt?: Date }): AdminJobView {
  const { idempotencyKey: _key, generationId: _gen, announcedAt: _announced, ...rest } = job;
  return { ...(rest as unknown as AdminJobView), _id: String(job._id), userId: String(job.userId), correlationId: job.correlationId ?? String(job._id) };
}
