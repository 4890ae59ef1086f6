const MONGO_DOWN = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'PoolClearedError',
  'PoolClearedOnNetworkError',
]);
const REDIS_DOWN = /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|connect ETIMEDOUT|Reached the max retries per request/i;

/** True when the error means MongoDB or Redis is unreachable (answer 503, retry later), not a bug. */
export function isDependencyDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (MONGO_DOWN.has(error.name)) return true;
  // bufferCommands is off, so Mongoose says this when it has no connection yet.
  if (error.name === 'MongooseError' && /initial connection|not connected|buffering/i.test(error.message)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return REDIS_DOWN.test(error.message) && !error.name.startsWith('Mongo');
}
