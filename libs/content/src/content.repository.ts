import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { DomainError, EMPTY_PAGE, escapeRegExp, isOwnedBy, NewestFirstPage, newestFirstPage, ownerObjectId, PagePosition, parseObjectId, unlessDuplicateKey } from '@app/common';
import { mongoConfig, MongoConfig } from '@app/config';
import { Content } from './content.schema';
import { ContentFields, ContentItem, ContentProvenance } from './content.types';

const SEARCHED_FIELDS = ['title', 'type', 'body'] as const;
/** The server's MaxTimeMSExpired: a query ran past maxTimeMS. */
const MAX_TIME_EXPIRED = 50;

export interface NewContentFromJob extends ContentFields, ContentProvenance {
  userId: string;
  sourceJobId: string;
  /** Which of the job's answers (0, the default, is `generatedContent`). */
  variant?: number;
}

/**
 * Library items. Ids are strings in and out: one that is not an ObjectId matches nothing, so the caller
 * answers "not found" rather than failing.
 */
@Injectable()
export class ContentRepository {
  constructor(
    @InjectModel(Content.name) private readonly contents: Model<Content>,
    @Inject(mongoConfig.KEY) private readonly config: MongoConfig,
  ) {}

  /** An item written by hand: its `manual:<new ObjectId>` source key cannot collide with another. */
  async create(userId: string, fields: ContentFields): Promise<ContentItem> {
    const created = await this.contents.create({ ...fields, userId: ownerObjectId(userId), sourceKey: `manual:${new Types.ObjectId().toHexString()}` });
    return toItem(created.toObject());
  }

  /** Undefined when this job's item exists already (unique source key), so racing saves cannot both insert. */
  async insertFromJob(content: NewContentFromJob): Promise<ContentItem | undefined> {
    return unlessDuplicateKey(async () => {
      const { variant, ...fields } = content;
      const created = await this.contents.create({ ...fields, userId: ownerObjectId(content.userId), sourceKey: jobSourceKey(content.sourceJobId, variant) });
      return toItem(created.toObject());
    });
  }

  /** By _id alone (the one filter FerretDB answers from an index), the owner checked here: another user's item looks missing. */
  async findOwned(userId: string, id: string): Promise<ContentItem | undefined> {
    const itemId = parseObjectId(id);
    if (!itemId) return undefined;
    const content = await this.contents.findOne({ _id: itemId }).lean();
    return content && isOwnedBy(content.userId, userId) ? toItem(content) : undefined;
  }

  async findFromJob(userId: string, jobId: string, variant?: number): Promise<ContentItem | undefined> {
    const owner = parseObjectId(userId);
    if (!owner) return undefined;
    const content = await this.contents.findOne({ userId: owner, sourceKey: jobSourceKey(jobId, variant) }).lean();
    return content ? toItem(content) : undefined;
  }

  /**
   * One page, newest first, streamed; `search` is literal text matched case-insensitively. A query past the
   * configured time limit is DEPENDENCY_UNAVAILABLE: a search too broad for the database, not a bug.
   */
  async page(userId: string, options: { search?: string; limit: number; after?: PagePosition }): Promise<NewestFirstPage<ContentItem>> {
    const owner = parseObjectId(userId);
    if (!owner) return EMPTY_PAGE;
    const filter: Record<string, unknown> = { userId: owner };
    if (options.search) {
      const pattern = new RegExp(escapeRegExp(options.search), 'i');
      filter.$or = SEARCHED_FIELDS.map((field) => ({ [field]: pattern }));
    }
    try {
      return await newestFirstPage(this.contents, {
        filter,
        limit: options.limit,
        after: options.after,
        toId: (id) => parseObjectId(id),
        toItem,
        maxTimeMs: this.config.queryMaxTimeMs,
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === MAX_TIME_EXPIRED) {
        throw new DomainError('DEPENDENCY_UNAVAILABLE', 'The search took too long; try more specific text');
      }
      throw error;
    }
  }

  // Writes: the owner is checked by _id first, then the write filters on _id alone. An item never changes
  // owner, so the check holds; two lookups by primary key beat one scan of every user's items on FerretDB.
  async updateOwned(userId: string, id: string, changes: Partial<ContentFields>): Promise<ContentItem | undefined> {
    const itemId = parseObjectId(id);
    if (!itemId || !(await this.isOwnedBy(userId, itemId))) return undefined;
    const content = await this.contents.findOneAndUpdate({ _id: itemId }, { $set: changes }, { returnDocument: 'after', runValidators: true }).lean();
    return content ? toItem(content) : undefined;
  }

  async deleteOwned(userId: string, id: string): Promise<boolean> {
    const itemId = parseObjectId(id);
    if (!itemId || !(await this.isOwnedBy(userId, itemId))) return false;
    const result = await this.contents.deleteOne({ _id: itemId });
    return result.deletedCount === 1;
  }

  /** Every item of the user (an account's deletion); returns how many went. */
  async deleteAllOf(userId: string): Promise<number> {
    const owner = parseObjectId(userId);
    return owner ? (await this.contents.deleteMany({ userId: owner })).deletedCount : 0;
  }

  private async isOwnedBy(userId: string, id: Types.ObjectId): Promise<boolean> {
    const content = await this.contents.findOne({ _id: id }, { userId: 1 }).lean();
    return content !== null && isOwnedBy(content.userId, userId);
  }
}

/**
 * FerretDB has no sparse or partial unique indexes, so every item carries a source key; a job's item has
 * this one, one per saved answer (the first answer's key is the one saved jobs always had).
 */
function jobSourceKey(jobId: string, variant = 0): string {
  return variant === 0 ? `job:${jobId}` : `job:${jobId}:v${variant}`;
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
