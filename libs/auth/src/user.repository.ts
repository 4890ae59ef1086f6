import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, QueryFilter } from 'mongoose';
import { DomainError, escapeRegExp, parseObjectId, unlessDuplicateKey } from '@app/common';
import { mongoConfig, MongoConfig } from '@app/config';
import { User, UserRole } from './user.schema';

/** The server's MaxTimeMSExpired: a query ran past maxTimeMS. */
const MAX_TIME_EXPIRED = 50;

export interface UserRecord {
  _id: string;
  name: string;
  email: string;
  status: User['status'];
  role: UserRole;
  createdAt: Date;
  updatedAt: Date;
  /** Set while the account is being deleted (it is inactive then). */
  deletingAt?: Date;
}

/** A point in the newest-first order: list users strictly after it. */
export interface UserPosition {
  createdAt: Date;
  id: string;
}

@Injectable()
export class UserRepository {
  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    @Inject(mongoConfig.KEY) private readonly config: MongoConfig,
  ) {}

  /** Returns undefined when the email is taken (unique index), so two racing sign-ups cannot both win. */
  async create(user: Pick<User, 'name' | 'email' | 'passwordHash' | 'role'>): Promise<UserRecord | undefined> {
    return unlessDuplicateKey(async () => toRecord((await this.users.create(user)).toObject()));
  }

  async findByEmailWithHash(email: string): Promise<(UserRecord & { passwordHash: string }) | undefined> {
    const user = await this.users.findOne({ email }).select('+passwordHash').lean();
    return user ? { ...toRecord(user), passwordHash: user.passwordHash } : undefined;
  }

  /** False when there is no such user, or its account is being deleted (it stays inactive until it is gone). */
  async setStatus(id: string, status: User['status']): Promise<boolean> {
    const objectId = parseObjectId(id);
    if (!objectId) return false;
    return (await this.users.updateOne({ _id: objectId, deletingAt: mongoose.trusted({ $exists: false }) }, { $set: { status } })).matchedCount > 0;
  }

  /** The renamed user, or undefined when there is no such user. */
  async rename(id: string, name: string): Promise<UserRecord | undefined> {
    const objectId = parseObjectId(id);
    if (!objectId) return undefined;
    // An update and a read by _id, not findOneAndUpdate: both are plain on FerretDB.
    if ((await this.users.updateOne({ _id: objectId }, { $set: { name } })).matchedCount === 0) return undefined;
    return this.findById(id);
  }

  async findByIdWithHash(id: string): Promise<(UserRecord & { passwordHash: string }) | undefined> {
    const objectId = parseObjectId(id);
    if (!objectId) return undefined;
    const user = await this.users.findById(objectId).select('+passwordHash').lean();
    return user ? { ...toRecord(user), passwordHash: user.passwordHash } : undefined;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    const objectId = parseObjectId(id);
    if (objectId) await this.users.updateOne({ _id: objectId }, { $set: { passwordHash } });
  }

  async setRole(id: string, role: UserRole): Promise<void> {
    const objectId = parseObjectId(id);
    if (objectId) await this.users.updateOne({ _id: objectId }, { $set: { role } });
  }

  /** Deactivates the account and notes when its deletion began (kept as it was on a repeat); false when there is no such user. */
  async markDeleting(id: string, at: Date): Promise<boolean> {
    const objectId = parseObjectId(id);
    if (!objectId) return false;
    const user = await this.users.findById(objectId, { deletingAt: 1 }).lean();
    if (!user) return false;
    await this.users.updateOne({ _id: objectId }, { $set: { status: 'inactive', deletingAt: user.deletingAt ?? at } });
    return true;
  }

  /** Ids of users whose deletion began before `before`, oldest first, at most `limit`. */
  async findDeletingBefore(before: Date, limit: number): Promise<string[]> {
    const users = await this.users
      .find({ deletingAt: mongoose.trusted({ $lt: before }) }, { _id: 1 })
      .sort({ deletingAt: 1 })
      .limit(limit)
      .lean();
    return users.map((user) => String(user._id));
  }

  /** Removes the user record (the last step of an account's deletion). */
  async delete(id: string): Promise<void> {
    const objectId = parseObjectId(id);
    if (objectId) await this.users.deleteOne({ _id: objectId });
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const objectId = parseObjectId(id);
    if (!objectId) return undefined;
    const user = await this.users.findById(objectId).lean();
    return user ? toRecord(user) : undefined;
  }

  /** Newest first; `search` is literal text matched case-insensitively in name and email. Bounded by `limit` and the query time limit. */
  async list(options: { search?: string; limit: number; after?: UserPosition }): Promise<UserRecord[]> {
    const conditions: QueryFilter<User>[] = [];
    if (options.search) {
      const pattern = new RegExp(escapeRegExp(options.search), 'i');
      conditions.push({ $or: [{ name: pattern }, { email: pattern }] });
    }
    if (options.after) {
      const { createdAt } = options.after;
      const id = parseObjectId(options.after.id);
      // Our own operators: trusted, so sanitizeFilter does not turn them into $eq.
      conditions.push({ $or: [{ createdAt: mongoose.trusted({ $lt: createdAt }) }, { createdAt, _id: mongoose.trusted({ $lt: id }) }] });
    }
    try {
      const users = await this.users
        .find(conditions.length ? { $and: conditions } : {})
        .sort({ createdAt: -1, _id: -1 })
        .limit(options.limit)
        .maxTimeMS(this.config.queryMaxTimeMs)
        .lean();
      return users.map(toRecord);
    } catch (error) {
      if ((error as { code?: unknown }).code === MAX_TIME_EXPIRED) {
        throw new DomainError('DEPENDENCY_UNAVAILABLE', 'The search took too long; try more specific text');
      }
      throw error;
    }
  }
}

function toRecord(user: User & { _id: unknown }): UserRecord {
  return {
    _id: String(user._id),
    name: user.name,
    email: user.email,
    status: user.status,
    // Accounts created before roles existed have none stored.
    role: user.role ?? 'user',
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    ...(user.deletingAt ? { deletingAt: user.deletingAt } : {}),
  };
}

