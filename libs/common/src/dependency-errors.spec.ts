import { isDependencyDown } from './dependency-errors';

const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe(isDependencyDown.name, () => {
  it.each([
    ['MongoDB unreachable', named('MongoServerSelectionError', 'connect ECONNREFUSED 127.0.0.1:27017')],
    ['Mongoose without a connection', named('MongooseError', 'Operation `jobs.insertOne()` buffering timed out')],
    ['FerretDB on SQLite busy', named('MongoServerError', 'database is locked')],
    ['a database connection the server ended', Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' })],
    ['Redis down, no offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['Redis retries used up', named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 1).')],
    ['a cluster that lost a master', new Error('CLUSTERDOWN The cluster is down')],
    ['a cluster with no reachable node', named('ClusterAllFailedError', 'Failed to refresh slots cache.')],
  ])('says yes for %s', (_case, error) => {
    expect(isDependencyDown(error)).toBe(true);
  });

  it.each([
    ['a duplicate key', named('MongoServerError', 'E11000 duplicate key error')],
    ['a MongoDB error that quotes ECONNREFUSED in a document', named('MongoServerError', 'bad value "ECONNREFUSED"')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'jobId')")],
    ['not an error', 'ECONNREFUSED'],
  ])('says no for %s', (_case, error) => {
    expect(isDependencyDown(error)).toBe(false);
  });
});
