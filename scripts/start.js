// `npm start`: API + worker with local defaults. Starts the bundled MongoDB-compatible server when
// MONGO_URI is unset and a redis-server when none answers; Ctrl-C stops everything it started.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, freePort, portAnswers, startFerretDb, startRedis, stopProcess, hasBinary } = require('./services');
const { prettyLogs, prettyStream } = require('./pretty-logs');

const log = (message) => console.log(`[start] ${message}`);
const fail = (message) => {
  console.error(`[start] ${message}`);
  process.exit(1);
};

if (fs.existsSync(path.join(ROOT, '.env'))) process.loadEnvFile(path.join(ROOT, '.env'));
const dataDir = path.resolve(ROOT, process.env.DATA_DIR || '.data');
const started = [];

async function mongoUri() {
  if (process.env.MONGO_URI) {
    log(`MongoDB: ${process.env.MONGO_URI.replace(/\/\/[^@/]*@/, '//***@')} (MONGO_URI)`);
    return process.env.MONGO_URI;
  }
  const preferred = 27017;
  const port = (await portAnswers(preferred)) ? await freePort() : preferred;
  const ferretdb = await startFerretDb({ port, dataDir: path.join(dataDir, 'ferretdb'), stdio: 'inherit' });
  started.push(ferretdb.child);
  const uri = `${ferretdb.uri}/ai-content`;
  log(`MongoDB-compatible server (bundled FerretDB, data in ${path.relative(ROOT, dataDir)}/ferretdb): ${uri}`);
  return uri;
}

async function redisUrl() {
  if (process.env.REDIS_URL || process.env.REDIS_ENDPOINT) {
    log('Redis: from REDIS_URL / REDIS_ENDPOINT');
    return process.env.REDIS_URL;
  }
  if (await portAnswers(6379)) {
    log('Redis: redis://127.0.0.1:6379 (already running)');
    return 'redis://127.0.0.1:6379';
  }
  if (!hasBinary('redis-server')) {
    fail('No Redis answers on 127.0.0.1:6379 and redis-server is not installed: install it (apt-get install redis-server, brew install redis) or set REDIS_URL');
  }
  started.push(await startRedis({ port: 6379, dataDir: path.join(dataDir, 'redis') }));
  log(`Redis: redis://127.0.0.1:6379 (started here, append-only file in ${path.relative(ROOT, dataDir)}/redis)`);
  return 'redis://127.0.0.1:6379';
}

function run(name, entry, env) {
  const file = path.join(ROOT, 'dist', entry);
  if (!fs.existsSync(file)) fail(`${file} is missing: run npm run build`);
  // Each process logs at LOG_LEVEL; at a terminal its JSON lines are shown readable.
  const pretty = prettyLogs() ? prettyStream(name) : undefined;
  const child = spawn(process.execPath, ['--enable-source-maps', file], { env, stdio: ['inherit', pretty ? 'pipe' : 'inherit', 'inherit'] });
  if (pretty) child.stdout.pipe(pretty);
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping everything`);
      shutdown(1);
    }
  });
  started.unshift(child);
  return child;
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log('stopping...');
  for (const child of started) await stopProcess(child);
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

(async () => {
  const env = { ...process.env, DATA_DIR: dataDir, MONGO_URI: await mongoUri() };
  const redis = await redisUrl();
  if (redis) env.REDIS_URL = redis;
  if (!env.OPENROUTER_API_KEY && !env.OPENROUTER_KEY) log('LLM provider: offline (set OPENROUTER_API_KEY to call OpenRouter)');
  const port = env.PORT || '5000';
  run('API', 'apps/api/src/main.js', env);
  run('worker', 'apps/worker/src/main.js', env);
  log(`API: http://localhost:${port}  Swagger UI: http://localhost:${port}/docs  (Ctrl-C stops everything)`);
})().catch((error) => {
  console.error(`[start] ${error.message}`);
  shutdown(1);
});
