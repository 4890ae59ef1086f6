// End to end at scale. 10,000 jobs from 100 users through 1 API + 2 workers, timed from
// each POST to its job_completed on the user's socket, against bare BullMQ (no-op workers, same
// concurrency, same Redis) measured in the same run.
'use strict';
const { fork } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Queue, QueueEvents } = require('bullmq');
const Redis = require('ioredis');
const { stopProcess } = require('../scripts/services');
const { startStack, registerUser, percentile } = require('./stack');
const { connect } = require('./realtime.bench');
const { cpuMsOfAll, machineBusyMs, printTable, verdict, ms } = require('./measure');

const JOBS = Number(process.env.BENCH_JOBS || 10_000);
const USERS = Number(process.env.BENCH_USERS || 100);
const WORKERS = 2;
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY || 50);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S || 900) * 1000;
const TARGET = 0.5;
/** The product's queue (libs/jobs job.types.ts) and its job options (job.queue.ts), for the floor to match. */
const GENERATION_QUEUE = 'content-generation';
const JOB_OPTIONS = { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } };

/** Send and completion times by job id; a completion may arrive before the answer that names its job. */
function completionTracker() {
  const sent = new Map();
  const arrived = new Map();
  let failed = 0;
  let waiter;
  return {
    sent: (jobId, at) => sent.set(jobId, at),
    arrived(jobId, at, status) {
      if (arrived.has(jobId)) return;
      arrived.set(jobId, at);
      if (status !== 'completed') failed++;
      if (waiter && arrived.size >= waiter.count) waiter.resolve();
    },
    waitFor(count, timeoutMs) {
      if (arrived.size >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${arrived.size}/${count} completions within ${timeoutMs / 1000} s`)), timeoutMs);
        waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
      });
    },
    /** Latencies of the jobs sent since the last reset, arrival times in order, and how many failed. */
    summary() {
      const latencies = [...sent].map(([jobId, at]) => arrived.get(jobId) - at).sort((a, b) => a - b);
      return { latencies, arrivals: [...arrived.values()].sort((a, b) => a - b), failed };
    },
    reset() {
      sent.clear();
      arrived.clear();
      failed = 0;
    },
  };
}

/** Each user sends `perUser` requests one after another; all users at once (USERS in flight). */
async function eachUserInTurn(users, perUser, send) {
  await Promise.all(users.map(async (user) => {
    for (let i = 0; i < perUser; i++) await send(user, i);
  }));
}

/**
 * One batch: warm-up with one job per user (JIT, pools, sockets), then JOBS jobs. Returns jobs/s from
 * the first send to the last completion, latency percentiles, and the CPU ms per job of each group of
 * `processes` ({ name: [pid] }).
 */
async function timedBatch({ users, tracker, send, processes }) {
  await eachUserInTurn(users, 1, send);
  await tracker.waitFor(users.length, 60_000);
  tracker.reset();
  // The whole machine too: what the named processes do not use went to FerretDB, PostgreSQL, Redis and this client.
  const cpuOf = () => ({ ...Object.fromEntries(Object.entries(processes).map(([name, pids]) => [name, cpuMsOfAll(pids)])), machine: machineBusyMs() });
  const cpuBefore = cpuOf();
  const started = performance.now();
  await eachUserInTurn(users, Math.ceil(JOBS / users.length), send);
  const enqueuedS = (performance.now() - started) / 1000;
  await tracker.waitFor(Math.ceil(JOBS / users.length) * users.length, TIMEOUT_MS);
  const cpuAfter = cpuOf();
  const { latencies, arrivals, failed } = tracker.summary();
  const fifth = Math.floor(arrivals.length / 5);
  const cpu = Object.keys(cpuBefore).map((name) => `${name} ${ms((cpuAfter[name] - cpuBefore[name]) / latencies.length)}`);
  return {
    jobs: latencies.length,
    perSecond: latencies.length / ((arrivals.at(-1) - started) / 1000),
    // Completions/s over the first and the last fifth: a rate that falls as the collection grows is a scan.
    firstFifthPerSecond: fifth / ((arrivals[fifth - 1] - started) / 1000),
    lastFifthPerSecond: fifth / ((arrivals.at(-1) - arrivals.at(-fifth - 1)) / 1000),
    enqueuedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpu: cpu.join(', '),
    failed,
  };
}

/** Starts a no-op worker process and resolves once it listens on the queue. */
function noopWorker(env) {
  const child = fork(path.join(__dirname, 'noop-worker.js'), { env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`no-op worker exited with ${code}`)));
  });
}

/** The floor: BullMQ alone, add → `completed` event, with WORKERS no-op worker processes at CONCURRENCY. */
async function bareBullmq(stack) {
  const queueName = 'bench-noop';
  const url = stack.env.REDIS_URL;
  const workers = [];
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix: stack.prefix });
  const eventsConnection = new Redis(url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(queueName, { connection: eventsConnection, prefix: stack.prefix });
  try {
    const env = { BENCH_REDIS_URL: url, BENCH_PREFIX: stack.prefix, BENCH_QUEUE: queueName, BENCH_CONCURRENCY: String(CONCURRENCY) };
    for (let i = 0; i < WORKERS; i++) workers.push(await noopWorker(env));
    await events.waitUntilReady();
    const tracker = completionTracker();
    events.on('completed', ({ jobId }) => tracker.arrived(jobId, performance.now(), 'completed'));
    const users = Array.from({ length: USERS }, () => ({ id: randomUUID() }));
    const send = async (user) => {
      const jobId = randomUUID();
      tracker.sent(jobId, performance.now());
      await queue.add('generate', { jobId, userId: user.id, correlationId: jobId }, { ...JOB_OPTIONS, jobId });
    };
    return await timedBatch({ users, tracker, send, processes: { workers: workers.map((child) => child.pid) } });
  } finally {
    await events.close();
    await queue.close();
    // Connections passed in are the caller's to close.
    connection.disconnect();
    eventsConnection.disconnect();
    for (const child of workers) await stopProcess(child);
  }
}

function postJson(agent, url, token, body) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (response.statusCode === 202) resolve(JSON.parse(text));
        else reject(new Error(`POST ${url} answered ${response.statusCode}: ${text}`));
      });
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

/** Resolves once `count` workers listen on the product's queue (they start in the background). */
async function waitForWorkers(stack, count) {
  const connection = new Redis(stack.env.REDIS_URL);
  const queue = new Queue(GENERATION_QUEUE, { connection, prefix: stack.prefix });
  try {
    const deadline = Date.now() + 60_000;
    while ((await queue.getWorkersCount()) < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} workers after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** The product: POST /generate-content per user, one socket per user listening for job_completed. */
async function product(stack) {
  const api = await stack.api();
  const workers = Array.from({ length: WORKERS }, () => stack.worker());
  const agent = new http.Agent({ keepAlive: true, maxSockets: USERS });
  const sockets = [];
  try {
    await waitForWorkers(stack, WORKERS);
    const users = [];
    for (let i = 0; i < USERS; i++) users.push(await registerUser(api.url, `e2e${i}`));
    const tracker = completionTracker();
    for (const user of users) {
      const socket = await connect(api.url, user.token);
      socket.on('job_completed', (payload) => tracker.arrived(payload.jobId, performance.now(), payload.status));
      sockets.push(socket);
    }
    const send = async (user, i) => {
      const sentAt = performance.now();
      const body = { prompt: `End-to-end benchmark job ${i} of ${user.id}`, contentType: 'social-media-caption' };
      tracker.sent((await postJson(agent, `${api.url}/generate-content`, user.token, body)).jobId, sentAt);
    };
    return await timedBatch({ users, tracker, send, processes: { API: [api.child.pid], workers: workers.map((child) => child.pid) } });
  } finally {
    for (const socket of sockets) socket.disconnect();
    agent.destroy();
  }
}

async function endToEnd() {
  const stack = await startStack({ WORKER_CONCURRENCY: String(CONCURRENCY) });
  try {
    const floor = await bareBullmq(stack);
    const run = await product(stack);
    const ratio = run.perSecond / floor.perSecond;
    const shape = `${WORKERS} workers × concurrency ${CONCURRENCY}`;
    printTable(
      `End to end: ${run.jobs.toLocaleString('en-US')} jobs from ${USERS} users (each user one request at a time), ${shape}, ` +
        `offline provider, no delay, limiter off, ${stack.database}, everything on this machine`,
      [
        { name: `BullMQ alone: no-op workers (${shape}), \`add\` → \`completed\` event`, ...floor, unit: 'jobs/s', cpu: `(${floor.cpu})` },
        {
          name: `1 API + ${shape}: \`POST /generate-content\` → \`job_completed\` on the user's socket`,
          ...run,
          unit: 'jobs/s',
          cpu: run.cpu,
          floor: 'BullMQ alone',
          ratio,
          target: `≥ ${TARGET * 100}%`,
          verdict: verdict(ratio, TARGET),
        },
      ],
      { cpuHeader: 'CPU ms/job' },
    );
    console.log(
      `Latency is from sending the request (or add) to the completion event's arrival. Enqueue phases: BullMQ ${floor.enqueuedS.toFixed(1)} s, ` +
        `product ${run.enqueuedS.toFixed(1)} s. Product completions/s over the first fifth ${run.firstFifthPerSecond.toFixed(0)}, over the last fifth ` +
        `${run.lastFifthPerSecond.toFixed(0)}. Failed jobs: ${floor.failed + run.failed}. "machine" is the CPU of every process on the box.`,
    );
  } finally {
    await stack.stop();
  }
}

module.exports = { endToEnd };
