import { Inject, Injectable } from '@nestjs/common';
import { decodePageCursor, DomainError, encodePageCursor, OBJECT_ID_TEXT } from '@app/common';
import { mongoConfig, MongoConfig } from '@app/config';
import { ContentRepository } from './content.repository';
import {
  BODY_MAX_LENGTH,
  ContentFields,
  ContentItem,
  ContentListOptions,
  ContentPage,
  SaveFromJobInput,
  TITLE_MAX_LENGTH,
} from './content.types';

const EDITABLE_FIELDS = ['title', 'type', 'body'] as const;

/** The caller's content library. Every read and write is scoped to the owner; another user's item is "not found". */
@Injectable()
export class ContentService {
  constructor(
    private readonly contents: ContentRepository,
    @Inject(mongoConfig.KEY) private readonly config: MongoConfig,
  ) {}

  /**
   * Newest first: without `limit` the whole library up to LIST_MAX_ITEMS, else one page; `nextCursor` is
   * set when more follow. `limit` and `search` arrive checked by ListContentQueryDto.
   */
  async list(userId: string, options: ContentListOptions = {}): Promise<ContentPage> {
    const after = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, OBJECT_ID_TEXT);
    const page = await this.contents.page(userId, { search: options.search, limit: options.limit ?? this.config.listMaxItems, after });
    return { items: page.items, nextCursor: page.next && encodePageCursor(page.next) };
  }

  async get(userId: string, id: string): Promise<ContentItem> {
    const item = await this.contents.findOwned(userId, id);
    if (!item) throw notFound();
    return item;
  }

  async create(userId: string, fields: ContentFields): Promise<ContentItem> {
    const { title, type, body } = fields;
    return this.contents.create(userId, { title, type, body });
  }

  /** Changes only title, type and body; anything else in `changes` is ignored. */
  async update(userId: string, id: string, changes: Partial<ContentFields>): Promise<ContentItem> {
    const fields = pickEditable(changes ?? {});
    if (Object.keys(fields).length === 0) throw new DomainError('INVALID_ARGUMENT', 'Provide at least one of title, type, body');
    const item = await this.contents.updateOwned(userId, id, fields);
    if (!item) throw notFound();
    return item;
  }

  async remove(userId: string, id: string): Promise<{ id: string }> {
    if (!(await this.contents.deleteOwned(userId, id))) throw notFound();
    // As stored: ObjectId hex is lower case, a route id may not be.
    return { id: id.toLowerCase() };
  }

  /** Command: the user's whole library goes (an account's deletion); returns how many items. */
  removeAllOf(userId: string): Promise<number> {
    return this.contents.deleteAllOf(userId);
  }

  /**
   * Saves a completed job's text (one of its variants) to its owner's library. Idempotent and safe under
   * races: one item per job and variant, so only one insert wins; every other call gets that same item with `created: false`.
   */
  async saveFromJob(input: SaveFromJobInput): Promise<{ item: ContentItem; created: boolean }> {
    const title = input.title.trim();
    if (title.length < 1 || title.length > TITLE_MAX_LENGTH) throw new DomainError('INVALID_ARGUMENT', `title must be 1 to ${TITLE_MAX_LENGTH} characters`);
    if (input.body.length < 1 || input.body.length > BODY_MAX_LENGTH) throw new DomainError('INVALID_ARGUMENT', `body must be 1 to ${BODY_MAX_LENGTH} characters`);
    const created = await this.contents.insertFromJob({
      userId: input.userId,
      sourceJobId: input.jobId,
      title,
      type: input.type,
      body: input.body,
      provider: input.provider,
      model: input.model,
      usage: input.usage,
      variant: input.variant,
    });
    if (created) return { item: created, created: true };
    const existing = await this.contents.findFromJob(input.userId, input.jobId, input.variant);
    if (!existing) throw new DomainError('IDEMPOTENCY_CONFLICT', 'This job was already saved to another library');
    return { item: existing, created: false };
  }
}

function notFound(): DomainError {
  return new DomainError('CONTENT_NOT_FOUND', 'Content not found');
}

function pickEditable(fields: Partial<ContentFields>): Partial<ContentFields> {
  const picked: Partial<ContentFields> = {};
  for (const field of EDITABLE_FIELDS) {
    if (fields[field] !== undefined) Object.assign(picked, { [field]: fields[field] });
  }
  return picked;
}
