import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, Types } from 'mongoose';
import { EMPTY_PAGE, FINISHED_STATUSES, newestFirstPage, NewestFirstPage, PagePosition, parseObjectId, TokenUsage, unlessDuplicateKey } from '@app/common';
import { Job } from './job.schema';
import { JobResult, JobStatus, JobView, UNFINISHED_STATUSES } from './job.types';

/** Internal fields of a job record that no API answer shows. */
export const HIDDEN_JOB_FIELDS = { idempotencyKey: 0, correlationId: 0, announcedAt: 0, generationId: 0 } as const;
const FINISHED: JobStatus[] = [...FINISHED_STATUSES];

export type NewJob = Pick<Job, 'jobId' | 'prompt' | 'contentType' | 'scheduledFor' | 'idempotencyKey' | 'correlationId' | 'traceId' | 'options' | 'templateId' | 'batchId' | 'batchIndex'> & { userId: string };
/** A job record with the id that follows it through the logs. */
export type JobRecord = JobView & { correlationId: string };
/** What the reconciler needs of an unfinished record. */
export type UnfinishedJob = Pick<JobRecord, 'jobId' | 'userId' | 'status' | 'createdAt' | 'updatedAt' | 'correlationId' | 'batchId'>;

/**
 * Job records. Status changes are conditional updates (queued → processing → completed | failed | cancelled): the
 * second guard behind the job ledger in Redis, which decides who may change a job (FerretDB lets two
 * racers win one conditional update; MongoDB does not).
 */
@Injectable()
export class JobRepository {
  constructor(@InjectModel(Job.name) private readonly jobs: Model<Job>) {}

  /** Returns undefined when the idempotency key is already used. */
  async create(job: NewJob): Promise<JobView | undefined> {
    return unlessDuplicateKey(async () => {
      const created = await this.jobs.create({ ...job, _id: job.jobId, userId: new Types.ObjectId(job.userId) });
      return toView(created.toObject());
    });
  }

  async findByIdempotencyKey(idempotencyKey: string): Promise<JobView | undefined> {
    return this.one({ idempotencyKey });
  }

  /** By _id alone (the one filter FerretDB answers from an index), the owner checked here: another user's job looks missing. */
  async findOwned(userId: string, jobId: string): Promise<JobView | undefined> {
    if (typeof jobId !== 'string') return undefined;
    const job = await this.one({ _id: jobId });
    return job?.userId === userId ? job : undefined;
  }

  async findByJobId(jobId: string): Promise<JobRecord | undefined> {
    const job = await this.jobs.findOne({ _id: jobId }).lean();
    return job ? toRecord(job) : undefined;
  }

  /** Whether the job is finished; undefined when there is no such record. */
  async isFinished(jobId: string): Promise<boolean | undefined> {
    const job = await this.jobs.findOne({ _id: jobId }, { status: 1 }).lean();
    return job ? FINISHED.includes(job.status) : undefined;
  }

  /** One page of the owner's jobs, newest first, streamed. */
  async page(userId: string, options: { limit: number; after?: PagePosition }): Promise<NewestFirstPage<JobView>> {
    const owner = parseObjectId(userId);
    if (!owner) return EMPTY_PAGE;
    return newestFirstPage(this.jobs, { filter: { userId: owner }, limit: options.limit, after: options.after, toId: (id) => id, toItem: toView, projection: HIDDEN_JOB_FIELDS });
  }

  /** Unfinished records, up to `limit`; `complete` is false when there were more. */
  async listUnfinished(limit: number): Promise<{ jobs: UnfinishedJob[]; complete: boolean }> {
    const jobs = await this.jobs
      .find({ status: mongoose.trusted({ $in: UNFINISHED_STATUSES }) }, { userId: 1, status: 1, createdAt: 1, updatedAt: 1, correlationId: 1, batchId: 1 })
      .limit(limit + 1)
      .lean();
    const unfinished = jobs.slice(0, limit).map((job) => ({
      jobId: String(job._id),
      userId: String(job.userId),
      status: job.status,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      correlationId: job.correlationId,
      ...(job.batchId ? { batchId: job.batchId } : {}),
    }));
    return { jobs: unfinished, complete: jobs.length <= limit };
  }

  /**
   * Up to `limit` ids of records that finished before `before` (by completedAt, else updatedAt): a bounded
   * scan, since FerretDB v1 answers only a filter on `_id` alone from an index.
   */
  async listFinishedBefore(before: Date, limit: number): Promise<string[]> {
    const jobs = await this.jobs.find(finishedBefore(before), { _id: 1 }).limit(limit).lean();
    return jobs.map((job) => String(job._id));
  }

  /**
   * Deletes those of `jobIds` that are still finished before `before` (an admin retry in between keeps its
   * record) and returns the ids deleted.
   */
  async deleteFinishedBefore(jobIds: string[], before: Date): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const ids = mongoose.trusted({ $in: jobIds });
    await this.jobs.deleteMany({ ...finishedBefore(before), _id: ids });
    const kept = new Set((await this.jobs.find({ _id: ids }, { _id: 1 }).lean()).map((job) => String(job._id)));
    return jobIds.filter((jobId) => !kept.has(jobId));
  }

  async delete(jobId: string): Promise<void> {
    await this.jobs.deleteOne({ _id: jobId });
  }

  /** Up to `limit` of the owner's jobs, any status (an account's deletion reads them batch by batch). */
  async listOwnedIds(userId: string, limit: number): Promise<Pick<JobRecord, 'jobId' | 'status' | 'correlationId'>[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    const jobs = await this.jobs.find({ userId: owner }, { status: 1, correlationId: 1 }).limit(limit).lean();
    return jobs.map((job) => ({ jobId: String(job._id), status: job.status, correlationId: job.correlationId ?? String(job._id) }));
  }

  async deleteMany(jobIds: string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    return (await this.jobs.deleteMany({ _id: mongoose.trusted({ $in: jobIds }) })).deletedCount;
  }

  /** queued|processing → processing, with the number of the provider call about to start; undefined when finished or gone. */
  async markProcessing(jobId: string, attempts: number): Promise<JobRecord | undefined> {
    return this.transition(jobId, UNFINISHED_STATUSES, { status: 'processing', attempts }, { error: 1 });
  }

  /** processing → queued while the job waits for its next attempt. */
  async markRetrying(jobId: string, error: string): Promise<JobRecord | undefined> {
    return this.transition(jobId, ['processing'], { status: 'queued', error });
  }

  /** From any unfinished state: the ledger already decided this is the job's one outcome. */
  async markCompleted(jobId: string, result: JobResult, attempts: number): Promise<JobRecord | undefined> {
    return this.transition(jobId, UNFINISHED_STATUSES, { ...result, attempts, status: 'completed', completedAt: new Date() }, { error: 1 });
  }

  /** A record whose job never reached the queue: failed, and its Idempotency-Key free for the client's retry. */
  async markUnqueued(jobId: string, error: string): Promise<JobRecord | undefined> {
    return this.transition(jobId, ['queued'], { status: 'failed', error, completedAt: new Date(), idempotencyKey: `none:${jobId}` });
  }

  async markFailed(jobId: string, error: string, attempts?: number): Promise<JobRecord | undefined> {
    const attemptsUpdate = attempts === undefined ? {} : { attempts };
    return this.transition(jobId, UNFINISHED_STATUSES, { status: 'failed', error, completedAt: new Date(), ...attemptsUpdate });
  }

  /** From any unfinished state: the user cancelled it (the ledger kept that as the job's one outcome). */
  async markCancelled(jobId: string, attempts: number, usage?: TokenUsage): Promise<JobRecord | undefined> {
    const now = new Date();
    return this.transition(jobId, UNFINISHED_STATUSES, { status: 'cancelled', attempts, cancelledAt: now, completedAt: now, ...(usage ? { usage } : {}) }, { error: 1 });
  }

  /** What the provider calls of a cancelled job cost before the cancel: only a cancelled record takes it (the worker learns it last). */
  async recordCancelledUsage(jobId: string, usage: TokenUsage): Promise<boolean> {
    const updated = await this.jobs.updateOne({ _id: jobId, status: 'cancelled' }, { $set: { usage } });
    return updated.modifiedCount > 0;
  }

  // No projection here: FerretDB v1 refuses one on findAndModify; toView drops the internal fields.
  private async transition(jobId: string, from: Job['status'][], set: Partial<Job>, unset: Record<string, 1> = {}): Promise<JobRecord | undefined> {
    const update = Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set };
    const job = await this.jobs
      .findOneAndUpdate({ _id: jobId, status: mongoose.trusted({ $in: from }) }, update, { returnDocument: 'after' })
      .lean();
    return job ? toRecord(job) : undefined;
  }

  private async one(filter: Record<string, unknown>): Promise<JobView | undefined> {
    const job = await this.jobs.findOne(filter, HIDDEN_JOB_FIELDS).lean();
    return job ? toView(job) : undefined;
  }
}

/** Finished, and finished before `before`: by completedAt, or by updatedAt on a record without one. */
function finishedBefore(before: Date): Record<string, unknown> {
  return {
    status: mongoose.trusted({ $in: FINISHED }),
    $or: [{ completedAt: mongoose.trusted({ $lt: before }) }, { completedAt: mongoose.trusted({ $exists: false }), updatedAt: mongoose.trusted({ $lt: before }) }],
  };
}

/** A stored job as the API shows it. */
export function toView(job: Partial<Job> & { _id: unknown }): JobView {
  // announcedAt: written by earlier versions, no longer used.
  const { idempotencyKey: _key, correlationId: _cid, generationId: _gen, announcedAt: _announced, ...rest } = job as Partial<Job> & { _id: unknown; announcedAt?: Date };
  return { ...(rest as unknown as JobView), _id: String(job._id), userId: String(job.userId) };
}

function toRecord(job: Partial<Job> & { _id: unknown }): JobRecord {
  return { ...toView(job), correlationId: job.correlationId ?? String(job._id) };
}
