import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, QueryFilter, Types } from 'mongoose';
import { isDuplicateKeyError } from '@app/common';
import { mongoConfig, MongoConfig } from '@app/config';
import { Content } from './content.schema';
import { ContentFields, ContentItem, ContentProvenance } from './content.types';

const SEARCHED_FIELDS = ['title', 'type', 'body'] as const;

/** A point in the newest-first order: list items strictly after it. */
export interface ContentPosition {
  createdAt: Date;
  id: Types.ObjectId;
}

export interface NewContent extends ContentFields, ContentProvenance {
  userId: Types.ObjectId;
  sourceKey: string;
}

@Injectable()
export class ContentRepository {
  constructor(
    @InjectModel(Content.name) private readonly contents: Model<Content>,
    @Inject(mongoConfig.KEY) private readonly config: MongoConfig,
  ) {}

  /** Returns undefined when an item with the same sourceKey exists (unique index), so racing saves cannot both insert. */
  async insert(content: NewContent): Promise<ContentItem | undefined> {
    try {
      const created = await this.contents.create(content);
      return toItem(created.toObject());
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  /** By _id alone (the one filter FerretDB answers from an index), the owner checked here: another user's item looks missing. */
  async findOwned(userId: Types.ObjectId, id: Types.ObjectId): Promise<ContentItem | undefined> {
    const content = await this.contents.findOne({ _id: id }).lean();
    return content && content.userId.equals(userId) ? toItem(content) : undefined;
  }

  async findBySourceKey(userId: Types.ObjectId, sourceKey: string): Promise<ContentItem | undefined> {
    const content = await this.contents.findOne({ userId, sourceKey }).lean();
    return content ? toItem(content) : undefined;
  }

  /** Newest first; `search` is literal text matched case-insensitively; bounded by the configured query time limit. */
  async list(userId: Types.ObjectId, options: { search?: string; limit: number; after?: ContentPosition }): Promise<ContentItem[]> {
    const conditions: QueryFilter<Content>[] = [];
    if (options.search) {
      const pattern = new RegExp(escapeRegExp(options.search), 'i');
      conditions.push({ $or: SEARCHED_FIELDS.map((field) => ({ [field]: pattern })) });
    }
    if (options.after) {
      const { createdAt, id } = options.after;
      // Our own operators: trusted, so sanitizeFilter does not turn them into $eq.
      conditions.push({ $or: [{ createdAt: mongoose.trusted({ $lt: createdAt }) }, { createdAt, _id: mongoose.trusted({ $lt: id }) }] });
    }
    const filter: QueryFilter<Content> = conditions.length ? { userId, $and: conditions } : { userId };
    const contents = await this.contents
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(options.limit)
      .maxTimeMS(this.config.queryMaxTimeMs)
      .lean();
    return contents.map(toItem);
  }

  // Writes: the owner is checked by _id first, then the write filters on _id alone. An item never changes
  // owner, so the check holds; two lookups by primary key beat one scan of every user's items on FerretDB.
  async updateOwned(userId: Types.ObjectId, id: Types.ObjectId, changes: Partial<ContentFields>): Promise<ContentItem | undefined> {
    if (!(await this.isOwnedBy(userId, id))) return undefined;
    const content = await this.contents.findOneAndUpdate({ _id: id }, { $set: changes }, { returnDocument: 'after', runValidators: true }).lean();
    return content ? toItem(content) : undefined;
  }

  async deleteOwned(userId: Types.ObjectId, id: Types.ObjectId): Promise<boolean> {
    if (!(await this.isOwnedBy(userId, id))) return false;
    const result = await this.contents.deleteOne({ _id: id });
    return result.deletedCount === 1;
  }

  private async isOwnedBy(userId: Types.ObjectId, id: Types.ObjectId): Promise<boolean> {
    const content = await this.contents.findOne({ _id: id }, { userId: 1 }).lean();
    return content !== null && content.userId.equals(userId);
  }
}

/**
 * Every regex metacharacter becomes literal text, so a search for `.*(` finds those three characters.
 * NUL becomes `\x00`: a BSON regular expression is a C string and cannot hold the byte itself.
 */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\\0]/g, (char) => (char === '\0' ? '\\x00' : `\\${char}`));
}

function toItem(content: Content & { _id: unknown }): ContentItem {
  const item: ContentItem = {
    _id: String(content._id),
    userId: String(content.userId),
    title: content.title,
    type: content.type,
    body: content.body,
    createdAt: content.createdAt,
    updatedAt: content.updatedAt,
  };
  if (content.sourceJobId !== undefined) item.sourceJobId = content.sourceJobId;
  if (content.provider !== undefined) item.provider = content.provider;
  if (content.model !== undefined) item.model = content.model;
  if (content.usage) {
    const { promptTokens, completionTokens, totalTokens, cost } = content.usage;
    item.usage = cost === undefined ? { promptTokens, completionTokens, totalTokens } : { promptTokens, completionTokens, totalTokens, cost };
  }
  return item;
}
