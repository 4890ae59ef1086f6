import { StreamableFile } from '@nestjs/common';
import { jsonArrayStream } from '@app/common';

export interface HeaderReply {
  header(name: string, value: string): unknown;
}

/** Swagger's description of the next-page headers. */
export const NEXT_PAGE_HEADERS = {
  'X-Next-Cursor': { description: 'Cursor of the next page, when there is one' },
  Link: { description: 'rel="next": a relative reference to the next page, when there is one' },
};

type Query = Record<string, string | number | undefined>;

/**
 * X-Next-Cursor and `Link: <route?...&cursor=...>; rel="next"`. The target is a relative reference
 * (RFC 3986) resolved against the request's own URL, so it keeps working behind a path prefix:
 * from `/api/content` it leads to `/api/content?cursor=...`.
 */
export function setNextPage(reply: HeaderReply, route: string, query: Query, cursor: string): void {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  params.set('cursor', cursor);
  reply.header('X-Next-Cursor', cursor);
  reply.header('Link', `<${route}?${params.toString()}>; rel="next"`);
}

/** A list answered as a JSON array written while its items are read, with the next-page headers when more follow. */
export function streamedList(reply: HeaderReply, page: { items: AsyncIterable<unknown>; nextCursor?: string }, route: string, query: Query): StreamableFile {
  if (page.nextCursor) setNextPage(reply, route, query, page.nextCursor);
  return new StreamableFile(jsonArrayStream(page.items), { type: 'application/json; charset=utf-8' });
}
