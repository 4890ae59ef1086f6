/** Errors as the drivers throw them when a dependency is down (isDependencyDown recognises both). */
export const outageStub = {
  mongo: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name: 'MongoServerSelectionError' }),
  redis: new Error('Connection is closed.'),
};
