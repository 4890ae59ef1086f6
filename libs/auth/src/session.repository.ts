import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model } from 'mongoose';
import { Session } from './session.schema';

export interface SessionRecord {
  id: string;
  userId: string;
  userAgent?: string;
  ip?: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  endedAt?: Date;
}

/** Session records in MongoDB; every write is by `_id` alone (the one index FerretDB v1 uses). */
@Injectable()
export class SessionRepository {
  constructor(@InjectModel(Session.name) private readonly sessions: Model<Session>) {}

  async create(session: Omit<SessionRecord, 'endedAt'>): Promise<void> {
    const { id, ...rest } = session;
    await this.sessions.create({ _id: id, ...rest });
  }

  async touch(id: string, lastUsedAt: Date, expiresAt?: Date): Promise<void> {
    await this.sessions.updateOne({ _id: id }, { $set: { lastUsedAt, ...(expiresAt && { expiresAt }) } });
  }

  async markEnded(ids: string[], endedAt: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.sessions.updateMany({ _id: mongoose.trusted({ $in: ids }) }, { $set: { endedAt } });
  }

  /** Removes every session record of the user (an account's deletion); a scan, since FerretDB indexes `_id` alone. */
  async deleteAllOf(userId: string): Promise<number> {
    return (await this.sessions.deleteMany({ userId })).deletedCount;
  }

  /** The records of these ids that belong to `userId` and have not ended (the owner is checked here, not in the filter). */
  async findLive(userId: string, ids: string[]): Promise<SessionRecord[]> {
    if (ids.length === 0) return [];
    const found = await this.sessions.find({ _id: mongoose.trusted({ $in: ids }) }).lean();
    return found.filter((session) => session.userId === userId && !session.endedAt).map(toRecord);
  }
}

function toRecord(session: Session): SessionRecord {
  return {
    id: session._id,
    userId: session.userId,
    userAgent: session.userAgent,
    ip: session.ip,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    expiresAt: session.expiresAt,
    endedAt: session.endedAt,
  };
}
