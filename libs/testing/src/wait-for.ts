/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined, and returns that
 * value; fails with "timed out waiting for <what>" after `timeoutMs`. `what` may be a function, read
 * only on timeout, to report the state reached.
 */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string | (() => string),
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
