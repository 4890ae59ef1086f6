import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { parseObjectId, unlessDuplicateKey } from '@app/common';
import { User } from './user.schema';

export interface UserRecord {
  _id: string;
  name: string;
  email: string;
  status: User['status'];
  createdAt: Date;
  updatedAt: Date;
}

@Injectable()
export class UserRepository {
  constructor(@InjectModel(User.name) private readonly users: Model<User>) {}

  /** Returns undefined when the email is taken (unique index), so two racing sign-ups cannot both win. */
  async create(user: Pick<User, 'name' | 'email' | 'passwordHash'>): Promise<UserRecord | undefined> {
    return unlessDuplicateKey(async () => toRecord((await this.users.create(user)).toObject()));
  }

  async findByEmailWithHash(email: string): Promise<(UserRecord & { passwordHash: string }) | undefined> {
    const user = await this.users.findOne({ email }).select('+passwordHash').lean();
    return user ? { ...toRecord(user), passwordHash: user.passwordHash } : undefined;
  }

  /** False when there is no such user. */
  async setStatus(id: string, status: User['status']): Promise<boolean> {
    const objectId = parseObjectId(id);
    if (!objectId) return false;
    return (await this.users.updateOne({ _id: objectId }, { $set: { status } })).matchedCount > 0;
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const objectId = parseObjectId(id);
    if (!objectId) return undefined;
    const user = await this.users.findById(objectId).lean();
    return user ? toRecord(user) : undefined;
  }
}

function toRecord(user: User & { _id: unknown }): UserRecord {
  return {
    _id: String(user._id),
    name: user.name,
    email: user.email,
    status: user.status,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}
