// `npm run bench`: starts throwaway stacks (offline provider, no delay, no rate limit) and prints numbers.
'use strict';
const { enqueueThroughput, endToEnd } = require('./jobs.bench');

const only = process.argv[2];
const benches = { enqueue: enqueueThroughput, e2e: endToEnd };

(async () => {
  for (const [name, bench] of Object.entries(benches)) {
    if (!only || only === name) await bench();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
