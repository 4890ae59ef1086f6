const DUPLICATE_KEY = 11000;

/**
 * Runs an insert and answers undefined when a unique index refused it: the caller's "already exists"
 * case, which racing writers reach too, rather than a failure.
 */
export async function unlessDuplicateKey<T>(insert: () => Promise<T>): Promise<T | undefined> {
  try {
    return await insert();
  } catch (error) {
    if ((error as { code?: unknown } | undefined)?.code === DUPLICATE_KEY) return undefined;
    throw error;
  }
}
