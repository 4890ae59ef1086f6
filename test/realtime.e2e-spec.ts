import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, startRedis, stopProcess } from '../scripts/services';
import { ClientSessionsService, JobCompletedEvent, PubSubService } from '@app/pubsub';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { signHs256 } from './support/jwt';
import {
  collectEvents,
  connectError,
  connectSocket,
  createSocket,
  disconnectAll,
  expectNoEvent,
  nextEvent,
  receivedEvents,
  waitForConnect,
  waitForDisconnect,
} from './support/socket';
import { Env, testEnv } from './support/test-env';
import { waitFor } from './support/worker';

type User = Awaited<ReturnType<typeof registerUser>>;

const now = () => Math.floor(Date.now() / 1000);

function completed(userId: string, jobId: string = randomUUID()): JobCompletedEvent {
  return { userId, jobId, status: 'completed', generatedContent: `Generated text of ${jobId}`, completedAt: new Date().toISOString() };
}

describe('Real-time notifications (Socket.IO through the real app)', () => {
  let env: Env;
  let api: RunningApi;
  let second: RunningApi | undefined;
  let pubsub: PubSubService;

  /** The server has processed the disconnect of every socket of the user (its cursor is then saved). */
  const serverForgot = (user: User, on: RunningApi = api) =>
    waitFor(() => (on.app.get(ClientSessionsService).sessionCount(user.id) === 0 ? true : undefined), 'the server to forget the sockets', 3000, 10);

  beforeAll(async () => {
    env = testEnv('realtime');
    api = await startApi(env);
    pubsub = api.app.get(PubSubService);
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await api.close();
    await second?.close();
  });

  describe('authentication', () => {
    let user: User;
    beforeAll(async () => {
      user = await registerUser(api.url);
    });

    it.each([
      ['no token', () => undefined],
      ['a malformed token', () => 'not-a-jwt'],
      ['a tampered token', () => `${user.token.slice(0, -4)}AAAA`],
      ['an expired token', () => signHs256({ sub: user.id, iat: now() - 600, exp: now() - 60 }, env.JWT_SECRET)],
      ['a token signed with another secret', () => signHs256({ sub: user.id, iat: now(), exp: now() + 600 }, 'another-secret-entirely-0123456789abcdef')],
      ['a token of an unknown user', () => signHs256({ sub: '507f1f77bcf86cd799439011', iat: now(), exp: now() + 600 }, env.JWT_SECRET)],
    ])('refuses %s with connect_error "Authentication error"', async (_name, token) => {
      const error = await connectError(api.url, token());
      expect(error.message).toBe('Authentication error');
    });

    it('refuses over long-polling too', async () => {
      const error = await connectError(api.url, 'not-a-jwt', { transports: ['polling'] });
      expect(error.message).toBe('Authentication error');
    });

    it('accepts the token in auth.token and as a bearer Authorization header', async () => {
      const viaAuth = await connectSocket(api.url, user.token);
      const viaHeader = await connectSocket(api.url, undefined, { headers: { authorization: `Bearer ${user.token}` } });
      expect(viaAuth.connected && viaHeader.connected).toBe(true);
    });

    it('disconnects a socket when its token expires', async () => {
      const token = signHs256({ sub: user.id, iat: now(), exp: now() + 2 }, env.JWT_SECRET);
      const socket = await connectSocket(api.url, token);
      const started = Date.now();
      expect(await waitForDisconnect(socket, 5000)).toBe('io server disconnect');
      expect(Date.now() - started).toBeLessThan(3500);
    });
  });

  describe('delivery', () => {
    it('sends job_completed to every socket of the owner, with the contract payload and an id, and to nobody else', async () => {
      const owner = await registerUser(api.url);
      const other = await registerUser(api.url);
      const tabs = await Promise.all([connectSocket(api.url, owner.token), connectSocket(api.url, owner.token, { transports: ['polling'] })]);
      const stranger = await connectSocket(api.url, other.token);

      const payload = completed(owner.id);
      await pubsub.publish('job_completed', owner.id, payload, { correlationId: 'corr-1' });

      for (const tab of tabs) {
        const received = await nextEvent(tab, 'job_completed');
        expect(received.payload).toEqual(payload);
        expect(received.id).toMatch(/^\d+-\d+$/);
      }
      await expectNoEvent(stranger, 'job_completed', 300);
      for (const tab of tabs) expect(receivedEvents(tab, ['job_completed'])).toHaveLength(1);
    });

    it('sends job_status with an id and job_delta without one (deltas are not recorded)', async () => {
      const user = await registerUser(api.url);
      const socket = await connectSocket(api.url, user.token);
      const jobId = randomUUID();
      await pubsub.publish('job_status', user.id, { jobId, status: 'processing', attempt: 1 });
      await pubsub.publish('job_delta', user.id, { jobId, attempt: 1, delivery: 1, seq: 0, text: 'Hel' });
      await pubsub.publish('job_delta', user.id, { jobId, attempt: 1, delivery: 1, seq: 1, text: 'lo' });

      const events = await collectEvents(socket, (log) => log.length >= 3);
      expect(events.map(({ event, payload, id }) => ({ event, payload, hasId: id !== undefined }))).toEqual([
        { event: 'job_status', payload: { jobId, status: 'processing', attempt: 1 }, hasId: true },
        { event: 'job_delta', payload: { jobId, attempt: 1, delivery: 1, seq: 0, text: 'Hel' }, hasId: false },
        { event: 'job_delta', payload: { jobId, attempt: 1, delivery: 1, seq: 1, text: 'lo' }, hasId: false },
      ]);
      const listed = await http(api.url, 'GET', '/notifications', { token: user.token });
      expect(listed.body.map((entry: { event: string }) => entry.event)).toEqual(['job_status']);
    });

    it('reaches sockets on every API instance from one publish', async () => {
      second = await startApi(env);
      const user = await registerUser(api.url);
      const other = await registerUser(second.url);
      const onFirst = await connectSocket(api.url, user.token);
      const onSecond = await connectSocket(second.url, user.token);
      const otherOnSecond = await connectSocket(second.url, other.token);

      const payload = completed(user.id);
      await pubsub.publish('job_completed', user.id, payload);

      const fromFirst = await nextEvent(onFirst, 'job_completed');
      const fromSecond = await nextEvent(onSecond, 'job_completed');
      expect(fromFirst.payload).toEqual(payload);
      expect(fromSecond.payload).toEqual(payload);
      expect(fromSecond.id).toBe(fromFirst.id);
      await expectNoEvent(otherOnSecond, 'job_completed', 300);
      expect(receivedEvents(onFirst)).toHaveLength(1);
      expect(receivedEvents(onSecond)).toHaveLength(1);
    });
  });

  describe('missed events', () => {
    it('gives a client that was offline the job_completed it missed when it reconnects, once', async () => {
      const user = await registerUser(api.url);
      const seen = completed(user.id);
      const socket = await connectSocket(api.url, user.token);
      await pubsub.publish('job_completed', user.id, seen);
      await nextEvent(socket, 'job_completed');
      socket.disconnect();
      await serverForgot(user);

      const missed = completed(user.id);
      await pubsub.publish('job_status', user.id, { jobId: missed.jobId, status: 'completed', attempt: 1 });
      await pubsub.publish('job_completed', user.id, missed);

      const again = await connectSocket(api.url, user.token);
      expect((await nextEvent(again, 'job_completed')).payload).toEqual(missed);
      await expectNoEvent(again, 'job_completed', 300);
      // Without lastEventId only completions are owed; status changes are not replayed.
      expect(receivedEvents(again).map((entry) => entry.event)).toEqual(['job_completed']);

      // And once only: the next reconnection has nothing to replay.
      again.disconnect();
      await serverForgot(user);
      const third = await connectSocket(api.url, user.token);
      await expectNoEvent(third, 'job_completed', 300);
    });

    it('gives a first connection the completions of the replay window (a job that finished before any socket)', async () => {
      const user = await registerUser(api.url);
      const payload = completed(user.id);
      await pubsub.publish('job_completed', user.id, payload);
      const socket = await connectSocket(api.url, user.token);
      expect((await nextEvent(socket, 'job_completed')).payload).toEqual(payload);
    });

    it('replays exactly the events after lastEventId, in order, then continues live', async () => {
      const user = await registerUser(api.url);
      const socket = await connectSocket(api.url, user.token);
      const jobs = [randomUUID(), randomUUID(), randomUUID()];
      for (const jobId of jobs) {
        await pubsub.publish('job_status', user.id, { jobId, status: 'processing', attempt: 1 });
        await pubsub.publish('job_completed', user.id, completed(user.id, jobId));
      }
      const live = await collectEvents(socket, (log) => log.length === 6);
      socket.disconnect();

      const lastSeen = live[1].id!;
      const resumed = await connectSocket(api.url, user.token, { lastEventId: lastSeen });
      const replayed = await collectEvents(resumed, (log) => log.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receivedEvents(resumed)).toHaveLength(4);
      expect(replayed.map(({ event, payload, id }) => ({ event, payload, id }))).toEqual(live.slice(2).map(({ event, payload, id }) => ({ event, payload, id })));

      const later = completed(user.id);
      await pubsub.publish('job_completed', user.id, later);
      expect((await nextEvent(resumed, 'job_completed', (payload) => payload.jobId === later.jobId)).payload).toEqual(later);
    });

    it('resumes with the last id on automatic reconnection (auth as a function)', async () => {
      const user = await registerUser(api.url);
      let lastEventId: string | undefined;
      const socket = createSocket(api.url, user.token, { reconnection: true, lastEventId: () => lastEventId });
      socket.onAny((_event, _payload, meta?: { id?: string }) => (lastEventId = meta?.id ?? lastEventId));
      await waitForConnect(socket);
      await pubsub.publish('job_completed', user.id, completed(user.id));
      await nextEvent(socket, 'job_completed');

      // The connection drops (not a client disconnect): the client reconnects by itself.
      const reconnected = new Promise((resolve) => socket.io.once('reconnect', resolve));
      socket.io.engine.close();
      await serverForgot(user);
      const missed = completed(user.id);
      await pubsub.publish('job_completed', user.id, missed);
      await reconnected;

      expect((await nextEvent(socket, 'job_completed')).payload).toEqual(missed);
      await expectNoEvent(socket, 'job_completed', 300);
      expect(receivedEvents(socket, ['job_completed'])).toHaveLength(2);
    });

    it('neither loses nor duplicates live events that arrive during the replay', async () => {
      const user = await registerUser(api.url);
      await pubsub.publish('job_status', user.id, { jobId: randomUUID(), status: 'queued', attempt: 0 });
      const [first] = (await http(api.url, 'GET', '/notifications', { token: user.token })).body;

      const total = 60;
      const publishing = (async () => {
        for (let i = 0; i < total; i++) await pubsub.publish('job_status', user.id, { jobId: `job-${i}`, status: 'processing', attempt: 1 });
      })();
      const sockets = await Promise.all(
        [0, 5, 10, 20].map(async (delayMs) => {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return connectSocket(api.url, user.token, { lastEventId: first.id });
        }),
      );
      await publishing;
      for (const socket of sockets) {
        const events = await collectEvents(socket, (log) => log.some((entry) => (entry.payload as { jobId: string }).jobId === `job-${total - 1}`));
        expect(events.map((entry) => (entry.payload as { jobId: string }).jobId)).toEqual(Array.from({ length: total }, (_, i) => `job-${i}`));
        const ids = events.map((entry) => entry.id!);
        expect(new Set(ids).size).toBe(total);
      }
    });
  });

  describe('GET /notifications', () => {
    it('lists the recorded events after an id, like the socket replay', async () => {
      const user = await registerUser(api.url);
      const other = await registerUser(api.url);
      const socket = await connectSocket(api.url, user.token);
      const jobId = randomUUID();
      await pubsub.publish('job_status', user.id, { jobId, status: 'processing', attempt: 1 });
      const payload = completed(user.id, jobId);
      await pubsub.publish('job_completed', user.id, payload);
      await pubsub.publish('job_completed', other.id, completed(other.id));
      const live = await collectEvents(socket, (log) => log.length === 2);

      const all = await http(api.url, 'GET', '/notifications', { token: user.token });
      expect(all.status).toBe(200);
      expect(all.body).toEqual(live.map(({ id, event, payload: body }) => ({ id, event, payload: body })));

      const after = await http(api.url, 'GET', `/notifications?after=${live[0].id}`, { token: user.token });
      expect(after.body).toEqual([{ id: live[1].id, event: 'job_completed', payload }]);

      const limited = await http(api.url, 'GET', '/notifications?limit=1', { token: user.token });
      expect(limited.body).toEqual([all.body[0]]);

      const none = await http(api.url, 'GET', `/notifications?after=${live[1].id}`, { token: user.token });
      expect(none.body).toEqual([]);
    });

    it.each([
      ['after=abc', 'after'],
      ['after=1-2-3', 'after'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
    ])('answers 400 to %s', async (query, field) => {
      const user = await registerUser(api.url);
      const response = await http(api.url, 'GET', `/notifications?${query}`, { token: user.token });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain(field);
    });

    it('answers 401 without a token', async () => {
      expect((await http(api.url, 'GET', '/notifications')).status).toBe(401);
    });
  });

  describe('limits', () => {
    it('drops a connection that sends an oversized message, and keeps serving others', async () => {
      const user = await registerUser(api.url);
      const bystander = await connectSocket(api.url, user.token);
      const socket = await connectSocket(api.url, user.token);
      socket.emit('hello', 'small messages are ignored');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(socket.connected).toBe(true);

      const disconnected = waitForDisconnect(socket);
      socket.emit('hello', 'x'.repeat(64 * 1024));
      expect(await disconnected).toMatch(/transport (close|error)/);

      await pubsub.publish('job_completed', user.id, completed(user.id));
      await nextEvent(bystander, 'job_completed');
    });

    it('answers the Socket.IO handshake for allowed origins only', async () => {
      const handshake = (origin: string) => http(api.url, 'GET', '/socket.io/?EIO=4&transport=polling', { headers: { origin } });
      const allowed = await handshake('http://localhost:3000');
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      const refused = await handshake('http://evil.example');
      expect(refused.status).toBe(403);
    });
  });

  // Last: it starts an app of its own.
  describe('Redis restarts', () => {
    it('keeps delivering, once each, when the subscriber connection drops and when Redis restarts', async () => {
      const port = await freePort();
      const dataDir = mkdtempSync(join(process.env.TEST_TMP_DIR!, 'realtime-redis-'));
      let redis = await startRedis({ port, dataDir });
      const local = await startApi(testEnv('realtime-restart', { REDIS_URL: `redis://127.0.0.1:${port}` }));
      const admin = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: null });
      try {
        const localPubSub = local.app.get(PubSubService);
        const user = await registerUser(local.url);
        const socket = await connectSocket(local.url, user.token);

        // Only the subscriber goes: what is published before it is back arrives by the catch-up.
        await admin.client('KILL', 'TYPE', 'pubsub');
        const first = completed(user.id);
        await localPubSub.publish('job_completed', user.id, first);
        expect((await nextEvent(socket, 'job_completed', undefined, 10_000)).payload).toEqual(first);

        const connections = async () => String(await admin.client('LIST')).trim().split('\n').length;
        const connectedBefore = await connections();
        await stopProcess(redis, 'SIGTERM');
        redis = await startRedis({ port, dataDir });
        // Every client of the app (subscriber, commands, BullMQ, throttling) is back before going on.
        await waitFor(async () => ((await connections()) >= connectedBefore ? true : undefined), 'the app to reconnect to Redis', 15_000, 100);
        const second = completed(user.id);
        // The publishing connection has no offline queue: a publish fails (records nothing) until it is ready again.
        await waitFor(() => localPubSub.publish('job_completed', user.id, second).then(() => true, () => undefined), 'the publisher to reconnect', 15_000, 100);
        expect((await nextEvent(socket, 'job_completed', (payload) => payload.jobId === second.jobId, 10_000)).payload).toEqual(second);

        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(receivedEvents(socket, ['job_completed']).map((entry) => entry.payload.jobId)).toEqual([first.jobId, second.jobId]);
      } finally {
        disconnectAll();
        admin.disconnect();
        await local.close();
        await stopProcess(redis);
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
