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
/** A connection refused, reset, closed or ended under a Redis or database client. */
const CONNECTION_LOST =
  /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|socket has been ended|ETIMEDOUT|connect ETIMEDOUT|Reached the max retries per request|CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|None of startup nodes is available/i;
/** FerretDB's SQLite backend refuses a write while another connection holds the file: busy, not broken. */
const DATABASE_BUSY = /database is locked|SQLITE_BUSY/i;

/** True when the error means MongoDB or Redis is unreachable or too busy (answer 503, retry later), not a bug. */
export function isDependencyDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (MONGO_DOWN.has(error.name)) return true;
  // bufferCommands is off, so Mongoose says this when it has no connection yet.
  if (error.name === 'MongooseError' && /initial connection|not connected|buffering/i.test(error.message)) return true;
  if (error.name === 'MongoServerError' && DATABASE_BUSY.test(error.message)) return true;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ClusterAllFailedError') return true;
  return CONNECTION_LOST.test(error.message) && !error.name.startsWith('Mongo');
}
