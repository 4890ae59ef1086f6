import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, Types } from 'mongoose';
import { parseObjectId, unlessDuplicateKey } from '@app/common';
import { Job } from '../job.schema';
import { HIDDEN_JOB_FIELDS, toView } from '../job.repository';
import { JobView } from '../job.types';
import { Batch } from './batch.schema';

export interface BatchRecord {
  batchId: string;
  userId: string;
  total: number;
  jobIds: string[];
  fingerprint: string;
  correlationId: string;
  createdAt: Date;
}


/** Jobs of a batch read at once. */
const READ_CONCURRENCY = 10;

/** Batch records, and the jobs of one batch read by their ids (`_id` alone: the one filter FerretDB answers from an index). */
@Injectable()
export class BatchRepository {
  constructor(
    @InjectModel(Batch.name) private readonly batches: Model<Batch>,
    @InjectModel(Job.name) private readonly jobs: Model<Job>,
  ) {}

  /** Undefined when the idempotency key is already used. */
  async create(batch: BatchRecord & { idempotencyKey: string }): Promise<BatchRecord | undefined> {
    return unlessDuplicateKey(async () => {
      const { batchId, userId, ...rest } = batch;
      await this.batches.create({ ...rest, _id: batchId, userId: new Types.ObjectId(userId) });
      return batch;
    });
  }

  /** By _id alone, the owner checked here: another user's batch looks missing. */
  async findOwned(userId: string, batchId: string): Promise<BatchRecord | undefined> {
    if (typeof batchId !== 'string') return undefined;
    const batch = await this.batches.findOne({ _id: batchId }).lean();
    return batch && String(batch.userId) === userId ? toRecord(batch) : undefined;
  }

  async findByIdempotencyKey(idempotencyKey: string): Promise<BatchRecord | undefined> {
    const batch = await this.batches.findOne({ idempotencyKey }).lean();
    return batch ? toRecord(batch) : undefined;
  }

  /** The owner's batches, newest first. */
  async listOwned(userId: string, limit: number): Promise<BatchRecord[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    const batches = await this.batches.find({ userId: owner }).sort({ createdAt: -1, _id: -1 }).limit(limit).lean();
    return batches.map(toRecord);
  }

  /** The ids of every batch of the user (an account's deletion). */
  async idsOf(userId: string): Promise<string[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    return (await this.batches.find({ userId: owner }, { _id: 1 }).lean()).map((batch) => String(batch._id));
  }

  async deleteMany(batchIds: string[]): Promise<number> {
    if (batchIds.length === 0) return 0;
    return (await this.batches.deleteMany({ _id: mongoose.trusted({ $in: batchIds }) })).deletedCount;
  }

  async delete(batchId: string): Promise<void> {
    await this.batches.deleteOne({ _id: batchId });
  }

  /** The batch's job records that still exist, in item order. */
  async jobsOf(batch: BatchRecord): Promise<JobView[]> {
    const found: JobView[] = [];
    // By _id one at a time, ten in flight: FerretDB v1 answers `_id: { $in }` by scanning every job of every user.
    for (let start = 0; start < batch.jobIds.length; start += READ_CONCURRENCY) {
      const chunk = batch.jobIds.slice(start, start + READ_CONCURRENCY);
      const jobs = await Promise.all(chunk.map((jobId) => this.jobs.findOne({ _id: jobId }, HIDDEN_JOB_FIELDS).lean()));
      for (const job of jobs) if (job) found.push(toView(job));
    }
    return found.filter((job) => job.userId === batch.userId);
  }
}

function toRecord(batch: Batch): BatchRecord {
  return {
    batchId: String(batch._id),
    userId: String(batch.userId),
    total: batch.total,
    jobIds: batch.jobIds,
    fingerprint: batch.fingerprint,
    correlationId: batch.correlationId,
    createdAt: batch.createdAt,
  };
}
