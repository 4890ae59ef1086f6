import { Readable } from 'node:stream';

const CHUNK_CHARS = 64 * 1024;

/** A JSON array written as its items arrive, in chunks of about 64 KB: the whole array is never held in memory. */
export function jsonArrayStream(items: AsyncIterable<unknown>): Readable {
  return Readable.from(chunks(items), { objectMode: false });
}

async function* chunks(items: AsyncIterable<unknown>): AsyncIterable<string> {
  let chunk = '[';
  let first = true;
  for await (const item of items) {
    chunk += (first ? '' : ',') + JSON.stringify(item);
    first = false;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]`;
}
