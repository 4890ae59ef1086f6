const DUPLICATE_KEY = 11000;

/** A unique index refused the write: the caller's "already exists" case, not a failure. */
export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === DUPLICATE_KEY;
}
