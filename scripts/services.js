// Local services for `npm start` and the tests: the bundled FerretDB (MongoDB-compatible) server and
// Redis. Plain CommonJS so `npm start` runs before anything is compiled.
'use strict';
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const FERRETDB_SRC = path.join(ROOT, 'tools', 'ferretdb');
const FERRETDB_BIN = path.join(ROOT, '.bin', 'ferretdb');

/** A hash of the Go program's sources: the binary is rebuilt only when they change. */
function ferretdbSourceHash() {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(fs.readFileSync(path.join(FERRETDB_SRC, file)));
  return hash.digest('hex');
}

/** Builds tools/ferretdb into .bin/ferretdb with `go build` unless an up-to-date binary is there. */
function buildFerretDb(log = console.log) {
  const stamp = `${FERRETDB_BIN}.sha256`;
  const hash = ferretdbSourceHash();
  if (fs.existsSync(FERRETDB_BIN) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return FERRETDB_BIN;
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error('Go is needed to build the bundled MongoDB-compatible server: install Go 1.22+ (https://go.dev/dl) or set MONGO_URI to a MongoDB server');
  }
  log('Building the bundled FerretDB server (first run only, about 2 minutes)...');
  fs.mkdirSync(path.dirname(FERRETDB_BIN), { recursive: true });
  execFileSync('go', ['build', '-trimpath', '-o', FERRETDB_BIN, '.'], { cwd: FERRETDB_SRC, stdio: 'inherit' });
  fs.writeFileSync(stamp, hash);
  return FERRETDB_BIN;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portAnswers(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port, { timeoutMs = 30_000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode} before listening on ${port}`);
    if (await portAnswers(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Starts FerretDB with the SQLite backend in `dataDir`. The child exits when this process dies
 * (its stdin closes), so nothing is left behind even after a crash.
 */
async function startFerretDb({ port, dataDir, handler = 'sqlite', postgresUrl, stdio = 'ignore' } = {}) {
  const bin = buildFerretDb();
  const listenPort = port ?? (await freePort());
  // FerretDB logs every error reply at warn ("collection already exists" races of two processes): too chatty.
  const args = ['-listen', `127.0.0.1:${listenPort}`, '-handler', handler, '-exit-on-stdin-eof', '-log-level', 'error'];
  if (handler === 'sqlite') args.push('-sqlite-dir', dataDir);
  else args.push('-postgresql-url', postgresUrl);
  const child = spawn(bin, args, { stdio: ['pipe', stdio, stdio] });
  await waitForPort(listenPort, { child });
  return { child, port: listenPort, uri: `mongodb://127.0.0.1:${listenPort}` };
}

/** Stops a child process and waits for it to exit. */
function stopProcess(child, signal = 'SIGTERM', timeoutMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

function hasBinary(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Starts a redis-server with append-only persistence under `dataDir`, for machines without one running. */
async function startRedis({ port, dataDir }) {
  fs.mkdirSync(dataDir, { recursive: true });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--save', ''], {
    stdio: 'ignore',
  });
  await waitForPort(port, { child });
  return child;
}

module.exports = { ROOT, buildFerretDb, freePort, portAnswers, waitForPort, startFerretDb, startRedis, stopProcess, hasBinary };
