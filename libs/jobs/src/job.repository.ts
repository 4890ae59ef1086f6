import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, Types } from 'mongoose';
import { isDuplicateKeyError, parseObjectId } from '@app/common';
import { Job } from './job.schema';
import { JobView, UNFINISHED_STATUSES } from './job.types';

const HIDDEN = { idempotencyKey: 0, correlationId: 0, announcedAt: 0, generationId: 0 } as const;

export type NewJob = Pick<Job, 'jobId' | 'prompt' | 'contentType' | 'scheduledFor' | 'idempotencyKey' | 'correlationId'> & { userId: string };
export type CompletedJob = Pick<Job, 'generatedContent' | 'provider' | 'model' | 'usage' | 'durationMs' | 'finishReason' | 'generationId'>;

/**
 * Job records. Status changes are conditional updates (queued → processing → completed | failed):
 * BullMQ delivers at least once, so a second delivery must find nothing to change.
 */
@Injectable()
export class JobRepository {
  constructor(@InjectModel(Job.name) private readonly jobs: Model<Job>) {}

  /** Returns undefined when the idempotency key is already used. */
  async create(job: NewJob): Promise<JobView | undefined> {
    try {
      const created = await this.jobs.create({ ...job, _id: job.jobId, userId: new Types.ObjectId(job.userId) });
      return toView(created.toObject());
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  async findByIdempotencyKey(idempotencyKey: string): Promise<JobView | undefined> {
    return this.one({ idempotencyKey });
  }

  async findOwned(userId: string, jobId: string): Promise<JobView | undefined> {
    const owner = parseObjectId(userId);
    return owner && typeof jobId === 'string' ? this.one({ _id: jobId, userId: owner }) : undefined;
  }

  async findByJobId(jobId: string): Promise<(JobView & { correlationId: string; announcedAt?: Date }) | undefined> {
    const job = await this.jobs.findOne({ _id: jobId }).lean();
    return job ? { ...toView(job), correlationId: job.correlationId, announcedAt: job.announcedAt } : undefined;
  }

  async listOwned(userId: string, limit: number): Promise<JobView[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    const jobs = await this.jobs.find({ userId: owner }, HIDDEN).sort({ createdAt: -1, _id: -1 }).limit(limit).lean();
    return jobs.map(toView);
  }

  countUnfinished(userId: string): Promise<number> {
    return this.jobs.countDocuments({ userId: new Types.ObjectId(userId), status: mongoose.trusted({ $in: UNFINISHED_STATUSES }) });
  }

  async delete(jobId: string): Promise<void> {
    await this.jobs.deleteOne({ _id: jobId });
  }

  /** queued|processing → processing; undefined when the job already finished (a duplicate delivery). */
  async markProcessing(jobId: string, attempt: number): Promise<JobView | undefined> {
    return this.transition(jobId, UNFINISHED_STATUSES, { status: 'processing', attempts: attempt }, { error: 1 });
  }

  /** processing → queued while BullMQ waits to retry. */
  async markRetrying(jobId: string, error: string): Promise<JobView | undefined> {
    return this.transition(jobId, ['processing'], { status: 'queued', error });
  }

  /** From any unfinished state: a duplicate delivery may have marked the job for retry meanwhile. */
  async markCompleted(jobId: string, result: CompletedJob): Promise<JobView | undefined> {
    return this.transition(jobId, UNFINISHED_STATUSES, { ...result, status: 'completed', completedAt: new Date() }, { error: 1 });
  }

  async markFailed(jobId: string, error: string, attempts?: number): Promise<JobView | undefined> {
    const attemptsUpdate = attempts === undefined ? {} : { attempts };
    return this.transition(jobId, UNFINISHED_STATUSES, { status: 'failed', error, completedAt: new Date(), ...attemptsUpdate });
  }

  async markAnnounced(jobId: string): Promise<void> {
    await this.jobs.updateOne({ _id: jobId }, { $set: { announcedAt: new Date() } });
  }

  // No projection here: FerretDB v1 refuses one on findAndModify; toView drops the internal fields.
  private async transition(jobId: string, from: Job['status'][], set: Partial<Job>, unset: Record<string, 1> = {}): Promise<JobView | undefined> {
    const update = Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set };
    const job = await this.jobs
      .findOneAndUpdate({ _id: jobId, status: mongoose.trusted({ $in: from }) }, update, { returnDocument: 'after' })
      .lean();
    return job ? toView(job) : undefined;
  }

  private async one(filter: Record<string, unknown>): Promise<JobView | undefined> {
    const job = await this.jobs.findOne(filter, HIDDEN).lean();
    return job ? toView(job) : undefined;
  }
}

function toView(job: Partial<Job> & { _id: unknown }): JobView {
  const { idempotencyKey: _key, correlationId: _cid, announcedAt: _announced, generationId: _gen, ...rest } = job;
  return { ...(rest as unknown as JobView), _id: String(job._id), userId: String(job.userId) };
}
