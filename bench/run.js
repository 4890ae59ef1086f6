// `npm run bench`: starts throwaway stacks (offline provider, no delay, no rate limit) and prints numbers.
// `npm run bench -- <name>` runs one of them.
'use strict';
const { hotPath } = require('./hot-path.bench');
const { endToEnd } = require('./jobs.bench');
const { realtime } = require('./realtime.bench');

const only = process.argv[2];
const benches = { hotpath: hotPath, e2e: endToEnd, realtime };

(async () => {
  if (only && !benches[only]) throw new Error(`unknown benchmark ${only}; one of ${Object.keys(benches).join(', ')}`);
  for (const [name, bench] of Object.entries(benches)) {
    if (!only || only === name) await bench();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
