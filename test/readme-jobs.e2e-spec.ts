import { createServer, Server, Socket } from 'node:net';
import Redis from 'ioredis';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { JobStateProbe } from './support/job-state';
import { OpenRouterStub, startOpenRouterStub, stubAnswerFor } from './support/openrouter-stub';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

type User = Awaited<ReturnType<typeof registerUser>>;

const enqueue = async (api: RunningApi, user: User, prompt: string, headers?: Record<string, string>) => {
  const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' }, headers });
  expect(response.status).toBe(202);
  return response.body.jobId as string;
};
const finished = (api: RunningApi, user: User, jobId: string, timeoutMs = 30_000) =>
  waitFor(async () => {
    const job = await http(api.url, 'GET', `/generate-content/${jobId}`, { token: user.token });
    return job.body.status === 'completed' || job.body.status === 'failed' ? job.body : undefined;
  }, `job ${jobId} to finish`, timeoutMs, 100);
const notifications = async (api: RunningApi, user: User) =>
  (await http(api.url, 'GET', '/notifications?limit=1000', { token: user.token })).body as { id: string; event: string; payload: { jobId: string; status?: string } }[];

/** README promises about generation jobs that no other spec checks. */
describe('README promises: generation jobs', () => {
  describe('job records carry durationMs and finishReason', () => {
    let stub: OpenRouterStub;
    let api: RunningApi;
    let worker: RunningWorker;

    beforeAll(async () => {
      stub = await startOpenRouterStub();
      const env = testEnv('readme-job-fields', { LLM_PROVIDER: 'openrouter', OPENROUTER_API_KEY: 'test-key', OPENROUTER_BASE_URL: stub.url, RATE_LIMIT_MAX: '0' });
      api = await startApi(env);
      worker = await startWorker(env);
    });
    afterAll(async () => {
      await worker?.stop('SIGKILL');
      await api?.close();
      await stub?.close();
    });

    it('records how long the provider took and why it stopped, as the provider said', async () => {
      const user = await registerUser(api.url);
      const prompt = 'timed answer [[stub:latency=300]]';
      const stopped = await finished(api, user, await enqueue(api, user, prompt));
      expect(stopped).toMatchObject({ status: 'completed', generatedContent: stubAnswerFor(prompt), finishReason: 'stop' });
      expect(Number.isInteger(stopped.durationMs)).toBe(true);
      // The stand-in waited 300 ms before answering: the duration covers the provider call.
      expect(stopped.durationMs).toBeGreaterThanOrEqual(300);

      // An outline that keeps its contract (three sections), so no repair request replaces it.
      const cutShort = '# Cut\n## One\n- a\n## Two\n- b\n## Three\n- c';
      stub.enqueue({ kind: 'stream', text: cutShort, finishReason: 'length' });
      const cut = await finished(api, user, await enqueue(api, user, 'cut answer'));
      expect(cut).toMatchObject({ status: 'completed', generatedContent: cutShort, finishReason: 'length' });
      expect(cut.durationMs).toEqual(expect.any(Number));
    });
  });

  describe('the per-user event log is trimmed', () => {
    const stack = async (name: string, overrides: Env) => {
      const env = testEnv(name, { RATE_LIMIT_MAX: '0', WORKER_CONCURRENCY: '20', MAX_ACTIVE_JOBS_PER_USER: '200', ...overrides });
      const api = await startApi(env);
      const worker = await startWorker(env);
      const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
      /** The user's stream in Redis: its key holds the user id and ends in :notifications. */
      const stream = async (userId: string) => {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, found] = await redis.scan(cursor, 'MATCH', `${env.REDIS_PREFIX.replace(/[{}]/g, '')}*${userId}*:notifications`, 'COUNT', 1000);
          cursor = next;
          keys.push(...found);
        } while (cursor !== '0');
        expect(keys.length).toBeLessThanOrEqual(1);
        return keys[0];
      };
      const close = async () => {
        redis.disconnect();
        await worker.stop('SIGKILL');
        await api.close();
      };
      return { env, api, worker, redis, stream, close };
    };

    it('by NOTIFICATIONS_MAX_PER_USER: the oldest events go, the newest stay', async () => {
      const max = 10;
      const { api, redis, stream, close } = await stack('readme-events-max', { NOTIFICATIONS_MAX_PER_USER: String(max) });
      try {
        const user = await registerUser(api.url);
        const jobIds: string[] = [];
        for (let i = 0; i < 60; i++) jobIds.push(await enqueue(api, user, `event flood ${i}`));
        for (const jobId of jobIds) expect((await finished(api, user, jobId)).status).toBe('completed');
        // Each job recorded at least its job_completed and its final job_status: 120 events or more.
        const key = await waitFor(async () => {
          const events = await notifications(api, user);
          return events.some((event) => event.event === 'job_completed' && event.payload.jobId === jobIds.at(-1)) ? stream(user.id) : undefined;
        }, 'the last job to be announced');
        expect(key).toBeDefined();
        // Redis trims whole stream nodes (MAXLEN ~): at most one node (100 entries) above the bound.
        const length = await redis.xlen(key!);
        expect(length).toBeGreaterThanOrEqual(max);
        expect(length).toBeLessThanOrEqual(max + 100);
        const events = await notifications(api, user);
        expect(events.length).toBeGreaterThanOrEqual(max);
        expect(events.length).toBeLessThanOrEqual(max + 100);
        const announced = new Set(events.filter((event) => event.event === 'job_completed').map((event) => event.payload.jobId));
        expect(announced.has(jobIds[0])).toBe(false);
        expect(announced.has(jobIds.at(-1)!)).toBe(true);
      } finally {
        await close();
      }
    }, 90_000);

    it('by NOTIFICATIONS_REPLAY_WINDOW_MS: older events are neither replayed nor kept', async () => {
      // Long enough that a loaded machine still sees the first job's events before they leave the window.
      const windowMs = 8000;
      const { api, redis, stream, close } = await stack('readme-events-window', { NOTIFICATIONS_REPLAY_WINDOW_MS: String(windowMs) });
      try {
        const user = await registerUser(api.url);
        const first = await enqueue(api, user, 'soon forgotten');
        await finished(api, user, first);
        const fresh = await waitFor(async () => {
          const events = await notifications(api, user);
          return events.some((event) => event.event === 'job_completed' && event.payload.jobId === first) ? events : undefined;
        }, 'the first job to be announced');
        expect(fresh.length).toBeGreaterThan(0);
        const key = (await stream(user.id))!;
        expect(await redis.xlen(key)).toBeGreaterThanOrEqual(fresh.length);

        // Once the window has passed, nothing of it is served, and the stream itself expires.
        await waitFor(async () => ((await notifications(api, user)).length === 0 ? true : undefined), 'the first job\'s events to leave the window', windowMs + 10_000, 200);
        await waitFor(async () => ((await redis.exists(key)) === 0 ? true : undefined), 'the idle stream to expire', windowMs + 10_000, 200);

        // A later job's events are served alone.
        const second = await enqueue(api, user, 'remembered');
        await finished(api, user, second);
        const later = await waitFor(async () => {
          const events = await notifications(api, user);
          return events.some((event) => event.event === 'job_completed' && event.payload.jobId === second) ? events : undefined;
        }, 'the second job to be announced');
        expect(later.every((event) => event.payload.jobId === second)).toBe(true);
      } finally {
        await close();
      }
    }, 60_000);
  });

  describe('an enqueue the queue refuses while the database goes down too', () => {
    let env: Env;
    let database: OutageProxy;
    let api: RunningApi;
    let redis: Redis;
    let probe: JobStateProbe;
    let worker: RunningWorker | undefined;
    const queueIdKey = () => `${env.REDIS_PREFIX}:content-generation:id`;

    beforeAll(async () => {
      const base = testEnv('readme-rollback');
      const mongo = new URL(base.MONGO_URI);
      database = await OutageProxy.start(Number(mongo.port));
      // The API reaches the database through a proxy that can cut it off; the worker directly.
      env = { ...base, MAX_ACTIVE_JOBS_PER_USER: '5', RECONCILE_INTERVAL_MS: '1000', RECONCILE_GRACE_MS: '1000', RATE_LIMIT_MAX: '0' };
      mongo.port = String(database.port);
      api = await startApi({ ...env, MONGO_URI: mongo.toString() });
      redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
      probe = new JobStateProbe(env);
    });
    afterAll(async () => {
      await worker?.stop('SIGKILL');
      await redis?.del(queueIdKey());
      redis?.disconnect();
      probe?.close();
      await api?.close();
      await database?.close();
    });

    const refusedEnqueue = async (user: User, key: string) => {
      // BullMQ's add script starts with INCR of the queue's id key: a non-number there makes Redis refuse every add.
      await redis.set(queueIdKey(), 'not-a-number');
      try {
        return await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: `refused ${key}`, contentType: 'blog-post' }, headers: { 'Idempotency-Key': key } });
      } finally {
        await redis.del(queueIdKey());
      }
    };
    const jobsOf = async (user: User) => (await http(api.url, 'GET', '/generate-content', { token: user.token })).body as { jobId: string; status: string; error?: string }[];

    it('the database cannot remove the record: answers 503, fails the record and frees the slot', async () => {
      const user = await registerUser(api.url);
      expect((await http(api.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);
      // Every connection that carries a delete of a job is cut: the rollback cannot remove the record.
      database.resetConnectionsCarrying((chunk) => chunk.includes('\x02delete\x00') && chunk.includes('jobs\x00'));
      const refused = await refusedEnqueue(user, 'rollback-fails');
      database.resetConnectionsCarrying(undefined);
      expect(refused.status).toBe(503);
      expect(database.resets).toBeGreaterThan(0);

      const [record, ...others] = await jobsOf(user);
      expect(others).toEqual([]);
      expect(record).toMatchObject({ status: 'failed', error: expect.any(String) });
      expect(await probe.slotCount(user.id)).toBe(0);

      // The failed record gave its Idempotency-Key back: the client's retry is a new job, not the failed one.
      const retried = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'refused rollback-fails', contentType: 'blog-post' }, headers: { 'Idempotency-Key': 'rollback-fails' } });
      expect(retried.status).toBe(202);
      expect(retried.body.jobId).not.toBe(record.jobId);
      expect((await jobsOf(user)).map((job) => job.status)).toEqual(['queued', 'failed']);
    }, 30_000);

    it('the database goes down right after the insert: answers 503, frees the slot, and the job does not stay queued', async () => {
      const user = await registerUser(api.url);
      expect((await http(api.url, 'GET', '/auth/me', { token: user.token })).status).toBe(200);
      // The database goes away right after it stored the record, before the rollback can remove or fail it.
      database.cutAfterReplyTo((chunk) => chunk.includes('\x02insert\x00') && chunk.includes('jobs\x00'));
      const refused = await refusedEnqueue(user, 'rollback-down');
      expect(refused.status).toBe(503);
      expect(database.cut).toBe(true);
      // Redis answers: the slot is free again.
      expect(await probe.slotCount(user.id)).toBe(0);

      database.restore();
      await waitFor(async () => ((await http(api.url, 'GET', '/health/ready')).status === 200 ? true : undefined), 'the database to answer again', 20_000, 200);
      // A retry with the key gets one job, never a second.
      const retried = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'refused rollback-down', contentType: 'blog-post' }, headers: { 'Idempotency-Key': 'rollback-down' } });
      expect(retried.status).toBe(202);
      expect((await jobsOf(user)).map((job) => job.jobId)).toEqual([retried.body.jobId]);

      // Whatever the record was left as, the worker's reconciler ends it: no job stays queued.
      worker = await startWorker(env);
      const ended = await finished(api, user, retried.body.jobId, 30_000);
      expect(['completed', 'failed']).toContain(ended.status);
      expect(await jobsOf(user)).toHaveLength(1);
      await waitFor(async () => ((await probe.slotCount(user.id)) === 0 ? true : undefined), 'the slot to be freed');
    }, 60_000);
  });
});

/**
 * A TCP proxy in front of the database that can go down: every connection is cut and new ones are
 * refused, as when the server dies, until `restore()`.
 */
class OutageProxy {
  cut = false;
  /** Connections reset by `resetConnectionsCarrying`. */
  resets = 0;
  private readonly sockets = new Set<Socket>();
  private trigger?: (chunk: string) => boolean;
  private resetOn?: (chunk: string) => boolean;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<OutageProxy> {
    let proxy!: OutageProxy;
    const server = createServer((client) => proxy.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new OutageProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Goes down just after the server answers the first request `matches` recognises. */
  cutAfterReplyTo(matches: (chunk: string) => boolean): void {
    this.trigger = matches;
  }

  /** Resets every connection that sends a request `matches` recognises (before it reaches the server), until called with undefined. */
  resetConnectionsCarrying(matches: ((chunk: string) => boolean) | undefined): void {
    this.resetOn = matches;
  }

  restore(): void {
    this.cut = false;
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.cut) return void client.resetAndDestroy();
    const server = new Socket();
    let cutAfterReply = false;
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk) => {
      if (this.cut) return;
      if (this.resetOn?.(chunk.toString('latin1'))) {
        this.resets++;
        server.resetAndDestroy();
        client.resetAndDestroy();
        return;
      }
      if (this.trigger?.(chunk.toString('latin1'))) {
        this.trigger = undefined;
        cutAfterReply = true;
      }
      server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (!cutAfterReply) return void client.write(chunk);
      // The reply reaches the client; then nothing more gets through.
      this.cut = true;
      client.write(chunk, () => this.goDown());
    });
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
    server.connect(targetPort, '127.0.0.1');
  }

  private goDown(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
