// A bare BullMQ worker whose processor does nothing: the queue's own cost, the floor of the end-to-end
// benchmark. Run by jobs.bench.js as a child process (like a product worker); says "ready" over IPC.
'use strict';
const { Worker } = require('bullmq');
const Redis = require('ioredis');

const { BENCH_REDIS_URL, BENCH_PREFIX, BENCH_QUEUE, BENCH_CONCURRENCY } = process.env;

(async () => {
  // BullMQ's blocking commands need maxRetriesPerRequest: null.
  const connection = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(BENCH_QUEUE, async () => undefined, { connection, prefix: BENCH_PREFIX, concurrency: Number(BENCH_CONCURRENCY) });
  await worker.waitUntilReady();
  process.send('ready');
  process.once('SIGTERM', async () => {
    await worker.close();
    connection.disconnect();
    process.exit(0);
  });
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
