import { Readable } from 'node:stream';

const CHUNK_CHARS = 64 * 1024;

/**
 * Text written as its parts are produced, in chunks of about 64 KB. Readable.from pulls the next part only
 * when the client has taken the previous chunks, so a slow client slows the database cursor instead of
 * piling the export up in memory; a client that goes away closes the parts (and the cursor behind them).
 */
export function textStream(parts: AsyncIterable<string>): Readable {
  return Readable.from(chunks(parts), { objectMode: false });
}

async function* chunks(parts: AsyncIterable<string>): AsyncIterable<Buffer> {
  let chunk = '';
  for await (const part of parts) {
    chunk += part;
    if (chunk.length >= CHUNK_CHARS) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  if (chunk) yield Buffer.from(chunk, 'utf8');
}
