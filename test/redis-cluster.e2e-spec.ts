import Redis from 'ioredis';
import { JobCompletedEvent } from '@app/pubsub';
import { pubsubKeys } from '../libs/pubsub/src/pubsub-keys';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { startRedisCluster, RedisCluster } from './support/redis-cluster';
import { collectEvents, connectSocket, disconnectAll, receivedEvents } from './support/socket';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const USERS = 12;
const JOBS_PER_USER = 3;

/**
 * The whole pipeline on a real 3-master Redis Cluster: two API instances, a worker, sockets on both
 * APIs, replay after a reconnect. Every Redis use (BullMQ, pub/sub, event streams, throttling, slots,
 * the user cache) goes through REDIS_CLUSTER_NODES, and the users' event streams spread over the masters.
 */
describe('On a Redis Cluster', () => {
  let cluster: RedisCluster;
  let env: Env;
  let apis: RunningApi[];
  let worker: RunningWorker;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    env = testEnv('cluster', { REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}`, REDIS_CLUSTER_NODES: cluster.nodes, RATE_LIMIT_MAX: '0' });
    apis = [await startApi(env), await startApi(env)];
    worker = await startWorker(env);
  }, 60_000);
  afterAll(async () => {
    disconnectAll();
    await worker?.stop('SIGTERM');
    await Promise.all((apis ?? []).map((api) => api.close()));
    await cluster?.stop();
  });

  it(`runs ${USERS * JOBS_PER_USER} jobs from ${USERS} users: each socket on either API hears each completion once`, async () => {
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => registerUser(apis[i % 2].url, `Cluster user ${i}`)));
    const sockets = await Promise.all(users.map((user) => Promise.all(apis.map((api) => connectSocket(api.url, user.token)))));

    const jobsOf = new Map<string, string[]>();
    for (let round = 0; round < JOBS_PER_USER; round++) {
      await Promise.all(
        users.map(async (user, i) => {
          const body = { prompt: `cluster ${i}-${round}`, contentType: 'blog-post' };
          const response = await http(apis[(i + round) % 2].url, 'POST', '/generate-content', { token: user.token, body, headers: { 'idempotency-key': `cluster-${round}` } });
          expect(response.status).toBe(202);
          jobsOf.set(user.id, [...(jobsOf.get(user.id) ?? []), response.body.jobId]);
        }),
      );
    }

    for (const [index, user] of users.entries()) {
      for (const socket of sockets[index]) {
        const events = await collectEvents(socket, (log) => log.length >= JOBS_PER_USER, { names: ['job_completed'], timeoutMs: 60_000 });
        expect(new Set(events.map((event) => (event.payload as JobCompletedEvent).jobId))).toEqual(new Set(jobsOf.get(user.id)));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const userSockets of sockets) for (const socket of userSockets) expect(receivedEvents(socket, ['job_completed'])).toHaveLength(JOBS_PER_USER);

    // A retried POST with the same Idempotency-Key names the same job (the claim lives in the user's slot).
    const replayed = await http(apis[1].url, 'POST', '/generate-content', { token: users[0].token, body: { prompt: 'cluster 0-0', contentType: 'blog-post' }, headers: { 'idempotency-key': 'cluster-0' } });
    expect(replayed.body.jobId).toBe(jobsOf.get(users[0].id)![0]);

    // Each user's events live on the master that owns the user's hash tag; with 12 users they spread over several.
    const holders = await Promise.all(users.map((user) => mastersHolding(pubsubKeys.stream(env.REDIS_PREFIX, user.id), cluster.ports)));
    expect(holders.every((ports) => ports.length === 1)).toBe(true);
    expect(new Set(holders.flat()).size).toBeGreaterThan(1);
  }, 120_000);

  it('replays what a socket missed while disconnected, through the other API', async () => {
    const user = await registerUser(apis[0].url, 'Cluster replay');
    const first = await connectSocket(apis[0].url, user.token);
    const accepted = await http(apis[0].url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'before', contentType: 'blog-post' } });
    const [seen] = await collectEvents(first, (log) => log.length >= 1, { names: ['job_completed'] });
    expect((seen.payload as JobCompletedEvent).jobId).toBe(accepted.body.jobId);
    first.disconnect();

    const missed = await http(apis[1].url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'while away', contentType: 'social-media-caption' } });
    await waitFor(async () => {
      const job = await http(apis[1].url, 'GET', `/generate-content/${missed.body.jobId}`, { token: user.token });
      return job.body.status === 'completed' ? true : undefined;
    }, 'the missed job to complete');

    const resumed = await connectSocket(apis[1].url, user.token, { lastEventId: seen.id });
    const replayed = await collectEvents(resumed, (log) => log.length >= 1, { names: ['job_completed'] });
    expect((replayed[0].payload as JobCompletedEvent).jobId).toBe(missed.body.jobId);
  }, 60_000);
});

/** The masters that answer for `key` without a redirect and hold it. */
async function mastersHolding(key: string, ports: number[]): Promise<number[]> {
  const holding: number[] = [];
  for (const port of ports) {
    const node = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    try {
      if ((await node.exists(key).catch(() => 0)) === 1) holding.push(port);
    } finally {
      node.disconnect();
    }
  }
  return holding;
}
