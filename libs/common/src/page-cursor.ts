import { DomainError } from './domain-error';

/** A point in a newest-first list: pages continue strictly after it. */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([0-9a-f-]{24,36})$/;

/** Opaque to clients: base64url of `<createdAt ISO>|<id>` of the last item of a page. */
export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(`${new Date(position.createdAt).toISOString()}|${position.id}`).toString('base64url');
}

/** Ids as lists store them: ObjectId hex, or a UUID (jobs). */
export const OBJECT_ID_TEXT = /^[0-9a-f]{24}$/;
export const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The position a cursor of ours names (its id of the list's kind); INVALID_ARGUMENT naming `cursor` for anything else. */
export function decodePageCursor(cursor: string, idText?: RegExp): PagePosition {
  const match = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  const createdAt = match ? new Date(match[1]) : undefined;
  if (!match || !createdAt || Number.isNaN(createdAt.getTime()) || (idText && !idText.test(match[2]))) {
    throw new DomainError('INVALID_ARGUMENT', 'cursor is invalid', { details: [{ field: 'cursor', errors: ['cursor is invalid'] }] });
  }
  return { createdAt, id: match[2] };
}
