import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model } from 'mongoose';
import { isDuplicateKeyError } from '@app/common';
import { JobQuota } from './job-quota.schema';

/**
 * A per-user counter of unfinished jobs, so the cap costs one conditional update instead of a count
 * over the user's jobs (a scan on FerretDB), and two racing requests cannot both take the last slot.
 */
@Injectable()
export class JobQuotaRepository {
  constructor(@InjectModel(JobQuota.name) private readonly quotas: Model<JobQuota>) {}

  /** Takes a slot when fewer than `cap` are taken; false at the cap. */
  async tryAcquire(userId: string, cap: number): Promise<boolean> {
    try {
      // Upsert under a condition: at the cap the filter misses, the insert collides with the existing _id.
      await this.quotas.updateOne({ _id: userId, active: mongoose.trusted({ $lt: cap }) }, { $inc: { active: 1 } }, { upsert: true });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async release(userId: string): Promise<void> {
    await this.quotas.updateOne({ _id: userId, active: mongoose.trusted({ $gt: 0 }) }, { $inc: { active: -1 } });
  }

  /** Resets the counter to the real number (after a crash between a job's end and its release). */
  async reset(userId: string, active: number): Promise<void> {
    await this.quotas.updateOne({ _id: userId }, { $set: { active } }, { upsert: true });
  }
}
