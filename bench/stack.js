// Starts a throwaway stack for benchmarks: its own FerretDB, the local Redis under a fresh prefix,
// and API/worker processes from dist/. Everything stops with stop().
'use strict';
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const Redis = require('ioredis');
const { execFileSync } = require('node:child_process');
const { ROOT, freePort, portAnswers, startFerretDb, stopProcess, waitForPort } = require('../scripts/services');

const PG = ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-q', '-c'];

/**
 * With a PostgreSQL on this machine the benchmark uses FerretDB's PostgreSQL backend: the SQLite one
 * answers concurrent writers (an API and two workers) with "database is locked". Both scan for most
 * filters; the PostgreSQL one even for _id alone (see README, Benchmarks).
 */
async function startDatabase(dataDir) {
  const handler = process.env.BENCH_FERRETDB_HANDLER || ((await portAnswers(5432)) ? 'postgresql' : 'sqlite');
  if (handler === 'sqlite') return { handler, ...(await startFerretDb({ dataDir })), drop() {} };
  const database = `aicg_bench_${randomBytes(3).toString('hex')}`;
  execFileSync('psql', [...PG, `CREATE DATABASE ${database}`]);
  const ferretdb = await startFerretDb({ handler, postgresUrl: `postgres://postgres@127.0.0.1:5432/${database}` });
  return { handler, ...ferretdb, drop: () => execFileSync('psql', [...PG, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]) };
}

async function startStack(overrides = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aicg-bench-'));
  const ferretdb = await startDatabase(dataDir);
  const prefix = `{aicg-bench-${randomBytes(3).toString('hex')}}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(48).toString('base64'),
    MONGO_URI: `${ferretdb.uri}/bench`,
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    LLM_PROVIDER: 'offline',
    JOB_DELAY_MS: '0',
    RATE_LIMIT_MAX: '0',
    MAX_ACTIVE_JOBS_PER_USER: '1000000',
    // The per-user limits would cap the load a bench drives through a few users.
    USER_JOBS_PER_MINUTE: '0',
    USER_JOBS_PER_DAY: '0',
    MAX_SOCKETS_PER_USER: '0',
    BCRYPT_ROUNDS: '4',
    AUTH_THROTTLE_IP_LIMIT: '1000000',
    AUTH_THROTTLE_ACCOUNT_LIMIT: '1000000',
    DATA_DIR: dataDir,
    ...overrides,
  };
  const children = [];
  const spawnNode = (entry, extra = {}) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', entry)], { env: { ...env, ...extra }, stdio: ['ignore', process.env.BENCH_STDOUT ? 'inherit' : 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };

  return {
    env,
    prefix,
    database: `FerretDB (${ferretdb.handler})`,
    async api() {
      const port = await freePort();
      const child = spawnNode('apps/api/src/main.js', { PORT: String(port), HOST: '127.0.0.1' });
      await waitForPort(port, { child });
      return { child, port, url: `http://127.0.0.1:${port}` };
    },
    worker(extra = {}) {
      return spawnNode('apps/worker/src/main.js', extra);
    },
    async stop() {
      for (const child of children) await stopProcess(child);
      await stopProcess(ferretdb.child);
      ferretdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
      const redis = new Redis(env.REDIS_URL);
      for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) if (keys.length) await redis.unlink(...keys);
      redis.disconnect();
    },
  };
}

async function registerUser(url, name = 'bench') {
  const email = `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'benchmark-password';
  const response = await fetch(`${url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, email, password }),
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${await response.text()}`);
  const body = await response.json();
  return { id: body._id, token: body.token, email, password };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Resident memory of a process in bytes, read from /proc. */
function rssOf(pid) {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

module.exports = { startStack, registerUser, percentile, rssOf };
