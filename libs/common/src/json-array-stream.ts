import { Readable } from 'node:stream';

const CHUNK_CHARS = 64 * 1024;

/** A JSON array written as its items arrive, in chunks of about 64 KB: the whole array is never held in memory. */
export function jsonArrayStream(items: AsyncIterable<unknown>): Readable {
  return Readable.from(chunks(items), { objectMode: false });
}

async function* chunks(items: AsyncIterable<unknown>): AsyncIterable<string> {
  let chunk = '[';
  let first = true;
  try {
    for await (const item of items) {
      chunk += (first ? '' : ',') + JSON.stringify(item);
      first = false;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
  } catch {
    // The database failed midway. Before the first chunk went out this becomes a 503 with this message (never
    // the driver's); after it, the connection is cut, so the client sees an incomplete answer, not a short list.
    throw Object.assign(new Error('The list could not be read to the end; try again shortly'), { statusCode: 503 });
  }
  yield `${chunk}]`;
}
