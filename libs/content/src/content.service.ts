import { Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { ContentPosition, ContentRepository } from './content.repository';
import {
  BODY_MAX_LENGTH,
  ContentFields,
  ContentItem,
  ContentListOptions,
  ContentPage,
  DEFAULT_PAGE_SIZE,
  SaveFromJobInput,
  TITLE_MAX_LENGTH,
} from './content.types';

const EDITABLE_FIELDS = ['title', 'type', 'body'] as const;

/** The caller's content library. Every read and write is scoped to the owner; another user's item is "not found". */
@Injectable()
export class ContentService {
  constructor(private readonly contents: ContentRepository) {}

  /**
   * Newest first, one page at a time; pass the returned `nextCursor` back to get the next page.
   * `limit` and `search` arrive checked by ListContentQueryDto.
   */
  async list(userId: string, options: ContentListOptions = {}): Promise<ContentPage> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    // One extra item tells whether a next page exists without a count.
    const items = await this.contents.list(userId, { search: options.search, limit: limit + 1, after });
    if (items.length <= limit) return { items };
    const page = items.slice(0, limit);
    return { items: page, nextCursor: encodeCursor(page[page.length - 1]) };
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

  /**
   * Saves a completed job's text to its owner's library. Idempotent and safe under races: one item per
   * job, so only one insert wins; every other call gets that same item with `created: false`.
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
    });
    if (created) return { item: created, created: true };
    const existing = await this.contents.findFromJob(input.userId, input.jobId);
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

const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([0-9a-f]{24})$/;

/** Opaque to clients: base64url of `<createdAt ISO>|<_id>` of the last item of a page. */
function encodeCursor(item: ContentItem): string {
  return Buffer.from(`${new Date(item.createdAt).toISOString()}|${item._id}`).toString('base64url');
}

function decodeCursor(cursor: string): ContentPosition {
  const match = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  const createdAt = match ? new Date(match[1]) : undefined;
  if (!match || !createdAt || Number.isNaN(createdAt.getTime())) throw new DomainError('INVALID_ARGUMENT', 'cursor is invalid');
  return { createdAt, id: match[2] };
}
