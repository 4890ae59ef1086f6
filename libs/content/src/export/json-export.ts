import { Readable } from 'node:stream';
import { ContentItem } from '../content.types';
import { ExportMeta } from './content-export.types';
import { textStream } from './text-stream';

/**
 * `{ "exportedAt", "truncated", "limit"?, "items": [...], "count" }` written as the items arrive. The count is
 * known only at the end, so it comes last (JSON objects are unordered; every parser reads it there too).
 * Items are as `GET /content/:id` returns them, provenance (`sourceJobId`, `provider`, `model`, `usage`) included.
 */
export function jsonExport(items: AsyncIterable<ContentItem>, meta: ExportMeta): Readable {
  return textStream(parts(items, meta));
}

async function* parts(items: AsyncIterable<ContentItem>, meta: ExportMeta): AsyncIterable<string> {
  const head: Record<string, unknown> = { exportedAt: meta.exportedAt.toISOString(), truncated: meta.truncated };
  if (meta.truncated) head.limit = meta.limit;
  yield `${JSON.stringify(head).slice(0, -1)},"items":[`;
  let count = 0;
  for await (const item of items) {
    yield `${count === 0 ? '\n' : ',\n'}${JSON.stringify(publicFields(item))}`;
    count++;
  }
  yield `\n],"count":${count}}\n`;
}

/** The item's public fields in a stable order, whatever else the object carries. */
function publicFields(item: ContentItem): Record<string, unknown> {
  const { _id, userId, title, type, body, createdAt, updatedAt, sourceJobId, provider, model, usage } = item;
  return { _id, userId, title, type, body, createdAt, updatedAt, sourceJobId, provider, model, usage };
}
