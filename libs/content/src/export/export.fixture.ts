import { Readable } from 'node:stream';
import { ContentItem } from '../content.types';
import { ExportMeta } from './content-export.types';

/** A library item for the export specs; every field a writer reads, with fixed dates. */
export const itemStub = (overrides: Partial<ContentItem> = {}): ContentItem => ({
  _id: '6650a1b2c3d4e5f6a7b8c9d0',
  userId: '6650a1b2c3d4e5f6a7b8c9d1',
  title: 'Title',
  type: 'Blog Post Outline',
  body: 'Body',
  createdAt: new Date('2026-11-24T10:40:00.000Z'),
  updatedAt: new Date('2026-11-24T10:41:00.000Z'),
  ...overrides,
});

export const libraryMeta: ExportMeta = { scope: 'library', title: 'Content library', exportedAt: new Date('2026-11-24T12:00:00.000Z'), truncated: false, limit: 10_000 };

/** Items as the repository hands them out: one at a time. */
export async function* streamOf<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

/** Everything a writer wrote. */
export async function bytesOf(readable: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function textOf(readable: Readable): Promise<string> {
  return (await bytesOf(readable)).toString('utf8');
}
