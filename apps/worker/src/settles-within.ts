import { setTimeout as sleep } from 'node:timers/promises';

/** True when `promise` settles within `ms`; it keeps running either way. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, sleep(ms, false, { signal: timeout.signal }).catch(() => false)]);
  timeout.abort();
  return result;
}
