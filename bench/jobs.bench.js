// Issue 3 benchmark: enqueue throughput and latency (autocannon), then end-to-end jobs/s for a batch.
'use strict';
const autocannon = require('autocannon');
const { MongoClient } = require('mongodb');
const { startStack, registerUser } = require('./stack');

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const DURATION_S = Number(process.env.BENCH_DURATION_S || 10);
const BATCH = Number(process.env.BENCH_BATCH || 2000);

async function enqueueThroughput() {
  const stack = await startStack();
  try {
    const api = await stack.api();
    const user = await registerUser(api.url);
    const result = await autocannon({
      url: `${api.url}/generate-content`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: DURATION_S,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ prompt: 'A benchmark prompt about solar backpacks', contentType: 'blog-post' }),
    });
    const non2xx = result.non2xx + result.errors;
    console.log(
      `enqueue: ${result.requests.average.toFixed(0)} requests/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms ` +
        `(${CONNECTIONS} connections, ${DURATION_S} s, ${result.requests.total} requests, ${non2xx} not 202, worker not running, ${stack.database})`,
    );
  } finally {
    await stack.stop();
  }
}

async function endToEnd() {
  const stack = await startStack({ WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY || '50' });
  const mongo = new MongoClient(stack.env.MONGO_URI);
  try {
    const api = await stack.api();
    stack.worker();
    const user = await registerUser(api.url);
    await mongo.connect();
    const jobs = mongo.db().collection('jobs');
    const started = Date.now();
    let next = 0;
    const enqueueOne = async () => {
      while (next < BATCH) {
        next++;
        const response = await fetch(`${api.url}/generate-content`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ prompt: `End-to-end benchmark job ${next}`, contentType: 'social-media-caption' }),
        });
        if (response.status !== 202) throw new Error(`enqueue answered ${response.status}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, enqueueOne));
    const enqueuedMs = Date.now() - started;
    let completed = 0;
    while (completed < BATCH) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      completed = await jobs.countDocuments({ status: 'completed' });
      if (Date.now() - started > 600_000) throw new Error(`only ${completed}/${BATCH} completed after 10 minutes`);
    }
    const elapsed = (Date.now() - started) / 1000;
    console.log(
      `end-to-end: ${BATCH} jobs enqueued→completed in ${elapsed.toFixed(1)} s = ${(BATCH / elapsed).toFixed(0)} jobs/s ` +
        `(enqueue phase ${(enqueuedMs / 1000).toFixed(1)} s; one worker, concurrency ${stack.env.WORKER_CONCURRENCY}, offline provider, ${stack.database})`,
    );
  } finally {
    await mongo.close();
    await stack.stop();
  }
}

module.exports = { enqueueThroughput, endToEnd };
