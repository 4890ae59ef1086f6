import { JobDeltaEvent } from '@app/pubsub';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub, stubAnswerFor } from './support/openrouter-stub';
import { collectEvents, connectSocket, disconnectAll, expectNoEvent, nextEvent, receivedEvents, waitForConnect } from './support/socket';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

/** Real-time delivery of real jobs: API, worker process, OpenRouter stand-in, Socket.IO clients. */
describe('Real-time events of real jobs', () => {
  let stub: OpenRouterStub;
  let api: RunningApi;
  let worker: RunningWorker;
  let user: { token: string; id: string };
  let other: { token: string; id: string };

  const enqueue = async (prompt: string) => {
    const response = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt, contentType: 'blog-post' } });
    expect(response.status).toBe(202);
    return response.body.jobId as string;
  };
  const forJob = (jobId: string) => (payload: { jobId: string }) => payload.jobId === jobId;

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    const env = testEnv('realtime-jobs', {
      ...openRouterStubEnv(stub),
      JOB_BACKOFF_MS: '100',
      RATE_LIMIT_MAX: '1000',
      RATE_LIMIT_DURATION_MS: '1000',
    });
    api = await startApi(env);
    worker = await startWorker(env);
    user = await registerUser(api.url, 'Owner');
    other = await registerUser(api.url, 'Other');
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.close();
    await stub?.close();
  });

  it('streams job_delta batches whose concatenation is the final text, then job_completed to every tab and no one else', async () => {
    const tab1 = await connectSocket(api.url, user.token);
    const tab2 = await connectSocket(api.url, user.token);
    const stranger = await connectSocket(api.url, other.token);
    const prompt = 'streamed outline [[stub:chunks=30]] [[stub:chunk-delay=20]]';
    const jobId = await enqueue(prompt);

    const [completed1, completed2] = await Promise.all([
      nextEvent(tab1, 'job_completed', forJob(jobId), 15_000),
      nextEvent(tab2, 'job_completed', forJob(jobId), 15_000),
    ]);
    expect(completed1.payload).toEqual({ userId: user.id, jobId, status: 'completed', generatedContent: stubAnswerFor(prompt), completedAt: expect.any(String) });
    expect(completed2.payload).toEqual(completed1.payload);
    expect(completed1.id).toEqual(expect.any(String));

    const deltas = receivedEvents(tab1, ['job_delta']).map((event) => event.payload as JobDeltaEvent).filter((delta) => delta.jobId === jobId);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((delta) => delta.seq)).toEqual(deltas.map((_, index) => index));
    expect(deltas.map((delta) => delta.text).join('')).toBe(completed1.payload.generatedContent);
    // Batched: 30 chunks 20 ms apart arrive in fewer, larger messages (at most about 20 a second).
    expect(deltas.length).toBeLessThan(30);

    const statuses = receivedEvents(tab1, ['job_status']).map((event) => event.payload).filter((status) => (status as { jobId: string }).jobId === jobId);
    expect(statuses).toEqual([
      { jobId, status: 'processing', attempt: 1 },
      { jobId, status: 'completed', attempt: 1 },
    ]);
    await expectNoEvent(stranger, 'job_completed', 300);
    expect(receivedEvents(stranger)).toEqual([]);
  });

  it('starts a new delta sequence on a retry, and the last attempt’s deltas equal the final text', async () => {
    const socket = await connectSocket(api.url, user.token);
    const prompt = 'retried stream [[stub:sequence=error-mid-stream,ok]] [[stub:chunks=8]] [[stub:chunk-delay=30]]';
    const jobId = await enqueue(prompt);
    const completed = await nextEvent(socket, 'job_completed', forJob(jobId), 15_000);
    const deltas = receivedEvents(socket, ['job_delta']).map((event) => event.payload as JobDeltaEvent).filter((delta) => delta.jobId === jobId);
    const lastAttempt = deltas.filter((delta) => delta.attempt === 2);
    expect(lastAttempt.map((delta) => delta.seq)).toEqual(lastAttempt.map((_, index) => index));
    expect(lastAttempt.map((delta) => delta.text).join('')).toBe(completed.payload.generatedContent);
    expect(deltas.every((delta) => delta.attempt === 1 || delta.attempt === 2)).toBe(true);
    const statuses = receivedEvents(socket, ['job_status']).map((event) => event.payload).filter((status) => (status as { jobId: string }).jobId === jobId);
    expect(statuses).toContainEqual({ jobId, status: 'queued', attempt: 1 });
    expect(statuses).toContainEqual({ jobId, status: 'processing', attempt: 2 });
  });

  it('announces a failed job as job_completed with status "failed"', async () => {
    const socket = await connectSocket(api.url, user.token);
    const jobId = await enqueue('refused by the provider [[stub:status=400]]');
    const failed = await nextEvent(socket, 'job_completed', forJob(jobId), 15_000);
    expect(failed.payload).toEqual({ userId: user.id, jobId, status: 'failed', error: expect.any(String), completedAt: expect.any(String) });
    expect(failed.payload.generatedContent).toBeUndefined();
  });

  it('delivers a job that completed while the client was away when it reconnects, once', async () => {
    const socket = await connectSocket(api.url, user.token);
    socket.disconnect();
    const jobId = await enqueue('finished while away [[stub:latency=200]]');
    await waitFor(async () => {
      const job = await http(api.url, 'GET', `/generate-content/${jobId}`, { token: user.token });
      return job.body.status === 'completed' ? true : undefined;
    }, 'the job to complete');
    await waitForConnect(socket);
    const replayed = await nextEvent(socket, 'job_completed', forJob(jobId), 5000);
    expect(replayed.payload.status).toBe('completed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = await collectEvents(socket, () => true, { names: ['job_completed'] });
    expect(events.filter((event) => (event.payload as { jobId: string }).jobId === jobId)).toHaveLength(1);
  });
});
