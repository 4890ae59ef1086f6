import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export type Env = Record<string, string>;

/** A database name of its own for each test file, on the suite's FerretDB. */
export function testDatabaseUri(name: string): string {
  return `${process.env.TEST_MONGO_URI}/${name.replace(/[^a-z0-9]/gi, '_').slice(0, 40)}_${randomBytes(3).toString('hex')}`;
}

/** The environment of a test app or worker: real FerretDB and Redis, fast bcrypt, quiet logs. */
export function testEnv(name: string, overrides: Env = {}): Env {
  return {
    NODE_ENV: 'test',
    MONGO_URI: testDatabaseUri(name),
    REDIS_URL: process.env.TEST_REDIS_URL!,
    REDIS_PREFIX: `${process.env.TEST_REDIS_PREFIX}${name}`,
    JWT_SECRET: 'test-jwt-secret-3f9a1c2e7b6d4a5f8e0c1b2a3d4e5f60',
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: join(process.env.TEST_TMP_DIR!, 'data'),
    LLM_PROVIDER: 'offline',
    JOB_DELAY_MS: '0',
    AUTH_THROTTLE_IP_LIMIT: '100000',
    AUTH_THROTTLE_ACCOUNT_LIMIT: '100000',
    // Workers of a test serve no metrics unless it asks (several run at once on one host).
    WORKER_METRICS_PORT: '0',
    // Suites queue many jobs and open many sockets per user; the limits' own tests turn them on.
    USER_JOBS_PER_MINUTE: '0',
    USER_JOBS_PER_DAY: '0',
    MAX_SOCKETS_PER_USER: '0',
    ...overrides,
  };
}

/** Applies an environment to this process (configs are read when an app is created) and returns an undo. */
export function applyEnv(env: Env): () => void {
  const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
