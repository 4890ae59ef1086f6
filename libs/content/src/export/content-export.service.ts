import { Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { DomainError, invalidArgument } from '@app/common';
import { mongoConfig, MongoConfig } from '@app/config';
import { ContentRepository } from '../content.repository';
import { ContentItem } from '../content.types';
import { ContentExport, EXPORT_FORMATS, EXPORT_MAX_IDS, ExportFormat, ExportMeta } from './content-export.types';
import { attachmentDisposition, itemFilenames, libraryFilename } from './export-filename';
import { ExportSeats } from './export-seats';
import { jsonExport } from './json-export';
import { markdownExport } from './markdown-export';
import { pdfExport } from './pdf-export';

const LIBRARY_TITLE = 'Content library';
/** Ids looked up at once when `ids=` names them. */
const LOOKUP_CONCURRENCY = 10;

const WRITERS: Record<ExportFormat, { write(items: AsyncIterable<ContentItem>, meta: ExportMeta): Readable; contentType: string }> = {
  json: { write: jsonExport, contentType: 'application/json; charset=utf-8' },
  markdown: { write: markdownExport, contentType: 'text/markdown; charset=utf-8' },
  pdf: { write: pdfExport, contentType: 'application/pdf' },
};

export interface LibraryExportQuery {
  format: ExportFormat;
  /** Literal text, as in the library list; not together with `ids`. */
  search?: string;
  /** These items only (another user's, or a missing one, is left out). */
  ids?: string[];
}

/**
 * Library downloads: the caller's items newest first (all, searched, or chosen by id), at most EXPORT_MAX_ITEMS,
 * written in the chosen format while the client reads. Past the limit the export is cut and says so
 * (`truncated`, in the file and in a header) rather than refused: the newest items are usually what is wanted.
 */
@Injectable()
export class ContentExportService {
  constructor(
    private readonly contents: ContentRepository,
    private readonly seats: ExportSeats,
    @Inject(mongoConfig.KEY) private readonly config: MongoConfig,
  ) {}

  async exportLibrary(userId: string, query: LibraryExportQuery, exportedAt = new Date()): Promise<ContentExport> {
    const format = checkedFormat(query.format);
    if (query.ids !== undefined && query.search) throw invalidArgument('ids', 'ids cannot be combined with search: give one or the other');
    const limit = this.config.exportMaxItems;
    const release = await this.seats.take(userId);
    let stream: Readable;
    let truncated: boolean;
    try {
      const chosen = query.ids === undefined ? await this.newest(userId, query.search, limit) : await this.byIds(userId, query.ids, limit);
      truncated = chosen.truncated;
      stream = WRITERS[format].write(chosen.items, { scope: 'library', title: LIBRARY_TITLE, exportedAt, truncated, limit });
    } catch (error) {
      release();
      throw error;
    }
    // Ended, failed or abandoned by the client: the seat is free again.
    stream.once('close', release);
    const filename = libraryFilename(format, exportedAt);
    return {
      stream,
      contentType: WRITERS[format].contentType,
      disposition: attachmentDisposition(filename),
      filename,
      truncated,
    };
  }

  /** One item; another user's is "not found", as everywhere in the library. */
  async exportItem(userId: string, id: string, format: ExportFormat, exportedAt = new Date()): Promise<ContentExport> {
    const checked = checkedFormat(format);
    const item = await this.contents.findOwned(userId, id);
    if (!item) throw new DomainError('CONTENT_NOT_FOUND', 'Content not found');
    const meta: ExportMeta = { scope: 'item', title: item.title, exportedAt, truncated: false, limit: this.config.exportMaxItems };
    const names = itemFilenames(item.title, item._id, checked);
    return {
      stream: WRITERS[checked].write(once(item), meta),
      contentType: WRITERS[checked].contentType,
      disposition: attachmentDisposition(names.ascii, names.utf8),
      filename: names.ascii,
      truncated: false,
    };
  }

  /** The library's (or the search's) newest `limit` items, streamed from one cursor. */
  private async newest(userId: string, search: string | undefined, limit: number): Promise<{ items: AsyncIterable<ContentItem>; truncated: boolean }> {
    const page = await this.contents.page(userId, { search: search || undefined, limit });
    return { items: take(page.items, limit), truncated: page.next !== undefined };
  }

  /**
   * The listed items the caller owns, newest first. Each is found by _id alone (the lookup FerretDB answers from
   * its index); only ids and dates are kept to sort them, and the items are read again as the file is written,
   * so at most LOOKUP_CONCURRENCY bodies are in memory at once.
   */
  private async byIds(userId: string, ids: string[], limit: number): Promise<{ items: AsyncIterable<ContentItem>; truncated: boolean }> {
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    if (unique.length === 0 || unique.length > EXPORT_MAX_IDS) throw invalidArgument('ids', `ids must list 1 to ${EXPORT_MAX_IDS} ids`);
    const owned: Array<{ id: string; createdAt: Date }> = [];
    for (let start = 0; start < unique.length; start += LOOKUP_CONCURRENCY) {
      const found = await Promise.all(unique.slice(start, start + LOOKUP_CONCURRENCY).map((id) => this.contents.findOwned(userId, id)));
      for (const item of found) if (item) owned.push({ id: item._id, createdAt: item.createdAt });
    }
    owned.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return { items: this.reread(userId, owned.slice(0, limit)), truncated: owned.length > limit };
  }

  /** An item deleted since it was listed is left out. */
  private async *reread(userId: string, entries: Array<{ id: string }>): AsyncIterable<ContentItem> {
    for (const { id } of entries) {
      const item = await this.contents.findOwned(userId, id);
      if (item) yield item;
    }
  }
}

function checkedFormat(format: unknown): ExportFormat {
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) throw invalidArgument('format', `format must be one of: ${EXPORT_FORMATS.join(', ')}`);
  return format as ExportFormat;
}

/** The first `limit` items: a cursor's page may grow by an item inserted while it is read. */
async function* take<T>(items: AsyncIterable<T>, limit: number): AsyncIterable<T> {
  let count = 0;
  if (limit <= 0) return;
  for await (const item of items) {
    yield item;
    if (++count >= limit) return;
  }
}

async function* once<T>(item: T): AsyncIterable<T> {
  yield item;
}
