import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, Types } from 'mongoose';
import { parseObjectId, unlessDuplicateKey } from '@app/common';
import { UsageRecord } from './usage.schema';

export type NewUsageRecord = Omit<UsageRecord, '_id' | 'userId'> & { recordId: string; userId: string };

/** One day's sums for one model. */
export interface UsageRow {
  day: string;
  model: string;
  jobs: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost: number;
}

/** Usage records, one per finished job run; inserted once (`_id`), summed per day and model. */
@Injectable()
export class UsageRepository {
  constructor(@InjectModel(UsageRecord.name) private readonly records: Model<UsageRecord>) {}

  /** False when the run was recorded before (a repeated finish): the unique _id holds on FerretDB too. */
  async insert(record: NewUsageRecord): Promise<boolean> {
    const { recordId, userId, ...rest } = record;
    const inserted = await unlessDuplicateKey(() => this.records.create({ ...rest, _id: recordId, userId: new Types.ObjectId(userId) }));
    return inserted !== undefined;
  }

  /**
   * A cancelled run's usage learnt after it was recorded (the worker's calls that finished before the cancel).
   * Only ever upwards: a late, stale report of fewer tokens does not undo a larger one.
   */
  async setUsage(recordId: string, usage: Pick<UsageRecord, 'promptTokens' | 'completionTokens' | 'totalTokens' | 'cost'>): Promise<void> {
    await this.records.updateOne({ _id: recordId, totalTokens: mongoose.trusted({ $lt: usage.totalTokens }) }, { $set: usage });
  }

  /**
   * Sums per day and model of the user's records from `from` to `to` (UTC days, inclusive), added up here
   * from a streamed read: FerretDB v1's $group fills only its first accumulator (the others come back 0).
   */
  async sums(userId: string, from: string, to: string): Promise<UsageRow[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    const rows = new Map<string, UsageRow>();
    const records = this.records
      .find({ userId: owner, day: mongoose.trusted({ $gte: from, $lte: to }) }, { _id: 0, day: 1, model: 1, promptTokens: 1, completionTokens: 1, totalTokens: 1, cost: 1 })
      .lean()
      .cursor();
    for await (const record of records) {
      const key = `${record.day} ${record.model}`;
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { day: record.day, model: record.model, jobs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0 }));
      row.jobs++;
      row.promptTokens += record.promptTokens;
      row.completionTokens += record.completionTokens;
      row.totalTokens += record.totalTokens;
      row.cost += record.cost;
    }
    return [...rows.values()];
  }

  /** For account deletion: every record of the user. Returns how many went. */
  async deleteAllOf(userId: string): Promise<number> {
    const owner = parseObjectId(userId);
    if (!owner) return 0;
    return (await this.records.deleteMany({ userId: owner })).deletedCount;
  }
}
