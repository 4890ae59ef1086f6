/** A Redis stream id `<ms>-<seq>`; `<ms>` alone means `<ms>-0`. */
const STREAM_ID = /^(\d{1,15})(?:-(\d{1,19}))?$/;

/** The canonical `<ms>-<seq>` form of a stream id, or undefined when the value is not one. */
export function parseStreamId(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = STREAM_ID.exec(text.trim());
  if (!match) return undefined;
  return `${BigInt(match[1])}-${BigInt(match[2] ?? '0')}`;
}

/** Orders two canonical stream ids: negative when a < b, 0 when equal, positive when a > b. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** The larger of two stream ids, either of which may be missing. */
export function maxStreamId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareStreamIds(a, b) >= 0 ? a : b;
}

/** The millisecond timestamp part of a canonical stream id. */
export function streamIdTime(id: string): number {
  return Number(id.split('-')[0]);
}
