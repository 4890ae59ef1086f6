/**
 * How keys spread over a Redis Cluster. `REDIS_PREFIX` carries a {hash tag} (default `{aicg}`): keys
 * under it share one slot, which BullMQ needs for a queue and the job scripts need for the ledger and
 * slots they touch together. Keys of one user that nothing global touches carry the user's own tag
 * instead, so the bulk of the data (event streams, idempotency claims) spreads over the slots user by user.
 */

/** The prefix without its braces: `{aicg}` → `aicg`. */
export function untaggedPrefix(prefix: string): string {
  return prefix.replace(/[{}]/g, '');
}

/** The start of one user's keys, e.g. `aicg:{u:6650…}`: all of them in one slot, users spread over all slots. */
export function userKeyPrefix(prefix: string, userId: string): string {
  return `${untaggedPrefix(prefix)}:{u:${userId}}`;
}
