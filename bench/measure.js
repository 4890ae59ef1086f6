// Measuring helpers shared by the benchmarks: timed loops with N operations in flight, autocannon runs
// with the API's CPU time, and the results table.
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const autocannon = require('autocannon');
const { percentile } = require('./stack');

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system, all threads) a process has used so far, in ms, from /proc/<pid>/stat. */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
function machineJiffies() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** CPU time the whole machine (all cores, every process) has used so far, in ms. */
function machineBusyMs() {
  return (machineJiffies().busy * 1000) / CLOCK_TICKS_PER_S;
}

/**
 * Waits until the machine is nearly idle: work a cut-off run left behind (requests autocannon
 * abandoned at its end, still hashing or querying) must not be billed to the next run.
 */
async function waitForQuiet({ maxBusy = 0.15, sampleMs = 500, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const before = machineJiffies();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const after = machineJiffies();
    if ((after.busy - before.busy) / Math.max(1, after.total - before.total) <= maxBusy) return;
  }
  console.warn(`warning: the machine stayed busier than ${maxBusy * 100}% for ${timeoutMs / 1000} s; measuring anyway`);
}

/** Sum of cpuMsOf over several processes. */
function cpuMsOfAll(pids) {
  return pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
}

/**
 * Runs `op` for `durationS` seconds with `inFlight` calls outstanding at all times.
 * Returns operations/s, latency percentiles in ms and this process's CPU ms per operation.
 */
async function timedLoop({ inFlight, durationS, op }) {
  const latencies = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await op();
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    perSecond: latencies.length / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    clientCpuMsPerOp: (cpu.user + cpu.system) / 1000 / latencies.length,
  };
}

/**
 * One autocannon run against the API with its CPU time read around it. `requests` are autocannon
 * request templates (a setupRequest there picks a random id per request). `alongside(run)`, when
 * given, starts with the measured run and gets its promise; what it returns comes back as `alongside`.
 */
async function httpRun({ api, path = '', connections, durationS, warmupS = 0, alongside, ...request }) {
  const options = { url: `${api.url}${path}`, connections, ...request };
  if (warmupS > 0) await autocannon({ ...options, duration: warmupS });
  await waitForQuiet();
  const cpuBefore = cpuMsOf(api.child.pid);
  const run = autocannon({ ...options, duration: durationS });
  const [result, beside] = await Promise.all([run, alongside?.(run)]);
  const cpuMs = cpuMsOf(api.child.pid) - cpuBefore;
  await waitForQuiet();
  const total = result.requests.total;
  const failed = result.non2xx + result.errors + result.timeouts;
  if (total === 0 || failed > total * 0.001) throw new Error(`${path || 'requests'}: ${failed} of ${total} requests failed`);
  return {
    count: total,
    perSecond: total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    apiCpuMsPerOp: cpuMs / total,
    failed,
    alongside: beside,
  };
}

/** Sequential GETs every `gapMs` until `until` resolves: the latency a bystander sees meanwhile. */
async function probeWhile(url, until, gapMs = 10) {
  const latencies = [];
  let done = false;
  const stop = () => (done = true);
  until.then(stop, stop);
  while (!done) {
    const t0 = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`probe ${url} answered ${response.status}`);
    latencies.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const ms = (value) => (Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(1)) : '–');
const rate = (value) => Math.round(value).toLocaleString('en-US');

/**
 * Prints rows as a Markdown table (readable in a terminal, pasted as is into the README).
 * A row: { name, perSecond, unit, p50, p99, cpu, floor, ratio, target, verdict }.
 */
function printTable(title, rows, { cpuHeader = 'API CPU ms/req' } = {}) {
  const header = ['what', 'rate', 'p50 ms', 'p99 ms', cpuHeader, 'floor', 'ratio', 'target', ''];
  const lines = rows.map((row) => [
    row.name,
    `${rate(row.perSecond)} ${row.unit ?? 'req/s'}`,
    ms(row.p50),
    ms(row.p99),
    row.cpu ?? '–',
    row.floor ?? '–',
    row.ratio === undefined ? '–' : `${(row.ratio * 100).toFixed(0)}%`,
    row.target ?? '–',
    row.verdict ?? '',
  ]);
  console.log(`\n${title}\n`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  console.log('');
}

/** PASS when `value` reaches `minimum`, else MISS. */
const verdict = (value, minimum) => (value >= minimum ? 'PASS' : 'MISS');

module.exports = { cpuMsOf, cpuMsOfAll, machineBusyMs, waitForQuiet, timedLoop, httpRun, probeWhile, printTable, verdict, ms };
