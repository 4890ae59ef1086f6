import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ChildProcess } from 'node:child_process';
import { freePort, startFerretDb, startRedis, stopProcess } from '../../scripts/services';
import { http } from './api';
import { Env } from './test-env';
import { RunningWorker, startWorker, waitFor } from './worker';

/** A FerretDB and a redis-server of the test's own, to stop and start again on the same port and data. */
export class OwnServices {
  private ferretdb!: { child: ChildProcess; port: number; uri: string };
  private redis!: ChildProcess;
  private redisPort!: number;
  private readonly dir = mkdtempSync(join(process.env.TEST_TMP_DIR!, 'faults-'));

  async start(): Promise<this> {
    this.ferretdb = await startFerretDb({ dataDir: join(this.dir, 'ferretdb') });
    this.redisPort = await freePort();
    this.redis = await startRedis({ port: this.redisPort, dataDir: join(this.dir, 'redis') });
    return this;
  }

  get mongoUri(): string {
    return this.ferretdb.uri;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  /** The database goes away for `ms` (killed: connections are refused), then comes back with its data. */
  async databaseOutage(ms: number): Promise<void> {
    await stopProcess(this.ferretdb.child, 'SIGKILL');
    await sleep(ms);
    this.ferretdb = await startFerretDb({ dataDir: join(this.dir, 'ferretdb'), port: this.ferretdb.port });
  }

  /** Redis goes away for `ms` (shut down cleanly, so its append-only file keeps every write), then comes back. */
  async redisOutage(ms: number): Promise<void> {
    await stopProcess(this.redis, 'SIGTERM');
    await sleep(ms);
    this.redis = await startRedis({ port: this.redisPort, dataDir: join(this.dir, 'redis') });
  }

  async stop(): Promise<void> {
    await stopProcess(this.ferretdb?.child);
    await stopProcess(this.redis);
  }
}

/** Workers of one stack; every worker ever started keeps its output, so provider calls can be counted across kills. */
export class WorkerPool {
  readonly all: RunningWorker[] = [];
  live: RunningWorker[] = [];

  constructor(private readonly env: Env) {}

  async start(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.add();
  }

  async add(): Promise<RunningWorker> {
    const worker = await startWorker(this.env);
    this.all.push(worker);
    this.live.push(worker);
    return worker;
  }

  /** Kills the live worker at `index` with `signal` and starts a fresh one in its place. */
  async replace(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.remove(index, signal);
    await this.add();
  }

  /** Stops the live worker at `index` with `signal` and waits for it to exit. */
  async remove(index: number, signal: NodeJS.Signals): Promise<void> {
    const [worker] = this.live.splice(index, 1);
    await worker.stop(signal);
  }

  /** Provider calls started per job, from the workers' "provider call" log lines. */
  providerCalls(): Map<string, number> {
    const calls = new Map<string, number>();
    for (const worker of this.all) {
      const output = worker.output();
      // Only whole lines: the process may be writing the last one right now.
      for (const line of output.slice(0, output.lastIndexOf('\n') + 1).split('\n')) {
        if (!line.includes('"provider call"')) continue;
        const { jobId } = JSON.parse(line) as { jobId: string };
        calls.set(jobId, (calls.get(jobId) ?? 0) + 1);
      }
    }
    return calls;
  }

  output(): string {
    return this.all.map((worker) => worker.output()).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.live.map((worker) => worker.stop('SIGKILL')));
    this.live = [];
  }
}

interface JobSummary {
  jobId: string;
  status: string;
  attempts: number;
  prompt: string;
  generatedContent?: string;
  error?: string;
  /** job_completed events of the job. */
  announced?: number;
}

/**
 * Waits until every job is finished and announced; returns each record with its number of job_completed
 * events, counted again after `quietMs` (longer than the fault stacks' 2 s reconcile interval), so a late
 * duplicate from the reconciler or a woken worker is counted too.
 */
export async function settledJobs(apiUrl: string, token: string, jobIds: string[], timeoutMs = 120_000, quietMs = 3000): Promise<JobSummary[]> {
  const jobs = await waitFor(
    async () => {
      const response = await http(apiUrl, 'GET', '/generate-content?limit=100', { token });
      if (response.status !== 200) return undefined;
      const mine = (response.body as JobSummary[]).filter((job) => jobIds.includes(job.jobId));
      return mine.length === jobIds.length && mine.every((job) => job.status === 'completed' || job.status === 'failed') ? mine : undefined;
    },
    `${jobIds.length} jobs to finish`,
    timeoutMs,
    500,
  );
  await waitFor(
    async () => {
      const counts = await announcements(apiUrl, token);
      return jobIds.every((jobId) => counts.has(jobId)) ? counts : undefined;
    },
    'every job to be announced',
    20_000,
    250,
  );
  await sleep(quietMs);
  const completions = await announcements(apiUrl, token);
  return jobs.map((job) => ({ ...job, announced: completions.get(job.jobId) ?? 0 }));
}

/** job_completed events per job, read through every page of GET /notifications. */
export async function announcements(apiUrl: string, token: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after: string | undefined;
  for (;;) {
    const page = await http(apiUrl, 'GET', `/notifications?limit=1000${after ? `&after=${after}` : ''}`, { token });
    const events = page.body as { id: string; event: string; payload: { jobId: string } }[];
    for (const event of events) if (event.event === 'job_completed') counts.set(event.payload.jobId, (counts.get(event.payload.jobId) ?? 0) + 1);
    if (events.length < 1000) return counts;
    after = events.at(-1)!.id;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
