// 1,000 sockets across 2 API instances; latency from the worker-side publish to a
// client's receipt of job_completed, and the API's memory per connected socket.
'use strict';
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { Module } = require('@nestjs/common');
const { ConfigModule } = require('@nestjs/config');
const { NestFactory } = require('@nestjs/core');
const { io } = require('socket.io-client');
const { startStack, registerUser, percentile, rssOf } = require('./stack');

const SOCKETS = Number(process.env.BENCH_SOCKETS || 1000);
const USERS = Number(process.env.BENCH_USERS || 100);
const EVENTS = Number(process.env.BENCH_EVENTS || 500);

/** PubSubService exactly as the worker uses it, in this process so send and receive share one clock. */
async function publisher(env) {
  Object.assign(process.env, { REDIS_URL: env.REDIS_URL, REDIS_PREFIX: env.REDIS_PREFIX, NODE_ENV: 'test', LOG_LEVEL: 'warn' });
  const { PubSubModule, PubSubService } = require('../dist/libs/pubsub/src');
  class BenchPublisherModule {}
  Module({ imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }), PubSubModule] })(BenchPublisherModule);
  const app = await NestFactory.createApplicationContext(BenchPublisherModule, { logger: ['error'] });
  return { app, pubsub: app.get(PubSubService) };
}

function connect(url, token) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 20_000 });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function realtime() {
  const stack = await startStack();
  const sockets = [];
  let published;
  try {
    const apis = [await stack.api(), await stack.api()];
    const users = [];
    for (let i = 0; i < USERS; i++) users.push(await registerUser(apis[0].url, `rt${i}`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = apis.map((api) => rssOf(api.child.pid));

    const sent = new Map();
    const latencies = [];
    for (let i = 0; i < SOCKETS; i++) {
      const user = users[i % USERS];
      const socket = await connect(apis[i % 2].url, user.token);
      socket.on('job_completed', (payload) => {
        const t0 = sent.get(payload.jobId);
        if (t0 !== undefined) latencies.push(performance.now() - t0);
      });
      sockets.push(socket);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = apis.map((api) => rssOf(api.child.pid));
    const perSocket = (after[0] - before[0] + after[1] - before[1]) / SOCKETS;

    published = await publisher(stack.env);
    const socketsPerUser = SOCKETS / USERS;
    for (let k = 0; k < EVENTS; k++) {
      const user = users[k % USERS];
      const jobId = randomUUID();
      sent.set(jobId, performance.now());
      await published.pubsub.publish('job_completed', user.id, { userId: user.id, jobId, status: 'completed', generatedContent: 'benchmark text', completedAt: new Date().toISOString() });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const expected = EVENTS * socketsPerUser;
    const deadline = Date.now() + 30_000;
    while (latencies.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    latencies.sort((a, b) => a - b);
    console.log(
      `realtime: ${SOCKETS} sockets (${USERS} users × ${socketsPerUser} tabs) on 2 API instances; publish→job_completed receipt ` +
        `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms over ${latencies.length}/${expected} receipts; ` +
        `API memory ≈ ${(perSocket / 1024).toFixed(1)} KiB RSS per connected socket`,
    );
  } finally {
    for (const socket of sockets) socket.disconnect();
    await published?.app.close();
    await stack.stop();
  }
}

module.exports = { realtime, connect };
