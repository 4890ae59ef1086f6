import { http, jobWhen, registerUser, RunningApi, startApi } from './support/api';
import { JobStateProbe } from './support/job-state';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub, stubAnswerFor } from './support/openrouter-stub';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

/**
 * The whole flow over HTTP with the worker running as its own process, as in production, talking to
 * the OpenRouter stand-in over a socket. Prompts carry stub markers that script the provider's answers.
 */
describe('Generation pipeline (API + worker process + OpenRouter stand-in)', () => {
  let stub: OpenRouterStub;
  let api: RunningApi;
  let worker: RunningWorker | undefined;
  let env: Record<string, string>;
  let user: { token: string; id: string };
  let probe: JobStateProbe;

  const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) =>
    http(api.url, method, path, { token: user.token, ...options });
  const enqueue = async (prompt: string, contentType = 'blog-post') => {
    const response = await call('POST', '/generate-content', { body: { prompt, contentType } });
    expect(response.status).toBe(202);
    return response.body as { jobId: string; scheduledFor: string; delaySeconds: number };
  };
  const job = async (jobId: string) => (await call('GET', `/generate-content/${jobId}`)).body;
  const until = (jobId: string, status: string, timeoutMs = 20_000) => jobWhen(api.url, user.token, jobId, [status], timeoutMs);
  const requestsFor = (marker: string) => stub.requests.filter((request) => request.prompt?.includes(marker));
  /** The job's job_completed events; the last step of a job's end, after its record and its slot. */
  const completions = async (jobId: string) => {
    const events = await call('GET', '/notifications');
    return events.body.filter((event: { event: string; payload: { jobId: string } }) => event.event === 'job_completed' && event.payload.jobId === jobId);
  };
  /** Waits for the job's announcement, then a moment more, so a duplicate (from BullMQ's failed hook, say) shows in a count after it. */
  const announced = async (jobId: string) => {
    await waitFor(async () => ((await completions(jobId)).length > 0 ? true : undefined), `job ${jobId} to be announced`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  };

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    env = testEnv('pipeline', {
      ...openRouterStubEnv(stub),
      OPENROUTER_TIMEOUT_MS: '5000',
      JOB_BACKOFF_MS: '200',
      RATE_LIMIT_MAX: '1000',
      RATE_LIMIT_DURATION_MS: '1000',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
    });
    api = await startApi(env);
    worker = await startWorker(env);
    user = await registerUser(api.url);
    probe = new JobStateProbe(env);
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.close();
    await stub?.close();
    probe?.close();
  });

  it('runs enqueue → processing → completed, and saves, searches, edits and deletes the result', async () => {
    const prompt = 'A launch post for a solar backpack [[stub:latency=1500]]';
    const accepted = await enqueue(prompt);
    expect(accepted).toMatchObject({ status: 'queued', delaySeconds: 0, jobId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    await until(accepted.jobId, 'processing');
    const completed = await until(accepted.jobId, 'completed');
    expect(completed).toMatchObject({
      jobId: accepted.jobId,
      userId: user.id,
      prompt,
      contentType: 'Blog Post Outline',
      generatedContent: stubAnswerFor(prompt),
      provider: 'openrouter',
      attempts: 1,
      usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number), totalTokens: expect.any(Number) },
    });
    expect(completed.model).toEqual(expect.any(String));
    expect(new Date(completed.completedAt).getTime()).toBeGreaterThanOrEqual(new Date(completed.createdAt).getTime());
    expect(completed.error).toBeUndefined();
    // Once announced, the finished job has given its slot of the per-user cap back.
    await announced(accepted.jobId);
    expect(await probe.slotCount(user.id)).toBe(0);

    const first = await call('POST', `/generate-content/${accepted.jobId}/save`, { body: {} });
    const second = await call('POST', `/generate-content/${accepted.jobId}/save`, { body: {} });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.content._id).toBe(first.body.content._id);
    expect(first.body.content).toMatchObject({ title: `Generated: ${prompt.slice(0, 50)}...`, type: 'Blog Post Outline', body: completed.generatedContent });
    const library = await call('GET', '/content');
    expect(library.body.filter((item: { _id: string }) => item._id === first.body.content._id)).toHaveLength(1);

    const found = await call('GET', `/content?search=${encodeURIComponent('SOLAR backpack')}`);
    expect(found.body.map((item: { _id: string }) => item._id)).toEqual([first.body.content._id]);
    const edited = await call('PUT', `/content/${first.body.content._id}`, { body: { title: 'Backpack launch' } });
    expect(edited.status).toBe(200);
    expect(edited.body.title).toBe('Backpack launch');
    expect((await call('DELETE', `/content/${first.body.content._id}`)).body).toEqual({ id: first.body.content._id });
    expect((await call('GET', `/content/${first.body.content._id}`)).status).toBe(404);
  });

  it('honours the delay: the job is not picked up before scheduledFor', async () => {
    const delayed = await startApi({ ...env, JOB_DELAY_MS: '2500' });
    try {
      const response = await http(delayed.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'delayed [[stub:respond=ok]]', contentType: 'Social Media Caption' } });
      expect(response.status).toBe(202);
      expect(response.body.delaySeconds).toBe(3);
      const scheduledFor = new Date(response.body.scheduledFor).getTime();
      expect(scheduledFor - Date.now()).toBeGreaterThan(1500);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await job(response.body.jobId)).status).toBe('queued');
      const completed = await until(response.body.jobId, 'completed');
      const request = requestsFor('delayed [[stub:respond=ok]]')[0];
      expect(request.receivedAt).toBeGreaterThanOrEqual(scheduledFor);
      expect(new Date(completed.completedAt).getTime()).toBeGreaterThanOrEqual(scheduledFor);
    } finally {
      await delayed.close();
    }
  });

  it('fails after 3 attempts when the provider answers 5xx every time', async () => {
    const accepted = await enqueue('always broken [[stub:status=502]]');
    const failed = await until(accepted.jobId, 'failed');
    expect(failed.attempts).toBe(3);
    expect(failed.error).toEqual(expect.any(String));
    expect(failed.error.length).toBeLessThanOrEqual(200);
    expect(failed.generatedContent).toBeUndefined();
    expect(requestsFor('always broken')).toHaveLength(3);
    await announced(accepted.jobId);
    expect(await completions(accepted.jobId)).toEqual([{ id: expect.any(String), event: 'job_completed', payload: { userId: user.id, jobId: accepted.jobId, status: 'failed', error: failed.error, completedAt: expect.any(String) } }]);
  });

  it('fails at once on 402 without Retry-After', async () => {
    const accepted = await enqueue('no credits [[stub:status=402]]');
    const failed = await until(accepted.jobId, 'failed');
    expect(failed.attempts).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(requestsFor('no credits')).toHaveLength(1);
  });

  it('waits out a 429 with Retry-After, then succeeds without using one of its retries', async () => {
    const prompt = 'busy provider [[stub:sequence=429,ok]] [[stub:retry-after=1]]';
    const accepted = await enqueue(prompt);
    const completed = await until(accepted.jobId, 'completed');
    const [first, second] = requestsFor('busy provider');
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(900);
    // attempts counts every provider call honestly; the pause did not count against JOB_ATTEMPTS.
    expect(completed.attempts).toBe(2);
    expect(completed.generatedContent).toBe(stubAnswerFor(prompt));
  });

  it('stops waiting on a provider that answers 429 with Retry-After forever: the job fails after bounded pauses', async () => {
    const accepted = await enqueue('never available [[stub:status=429]] [[stub:retry-after=1]]');
    const failed = await until(accepted.jobId, 'failed', 30_000).catch(async (error) => {
      throw new Error(`${error.message}: ${requestsFor('never available').length} requests, job ${JSON.stringify(await job(accepted.jobId))}\n${worker!.output().slice(-3000)}`);
    });
    // 5 pauses of a second that cost none of the 3 attempts, then the 3 attempts: 8 provider calls, all counted.
    expect(requestsFor('never available')).toHaveLength(8);
    expect(failed.attempts).toBe(8);
  }, 40_000);

  it.each([
    ['an error inside a 200 body', 'error-in-200'],
    ['an error mid-stream', 'error-mid-stream'],
  ])('retries %s and never saves it as content', async (_name, outcome) => {
    const prompt = `flaky ${outcome} [[stub:sequence=${outcome},ok]]`;
    const accepted = await enqueue(prompt);
    const completed = await until(accepted.jobId, 'completed');
    expect(completed.attempts).toBe(2);
    expect(completed.generatedContent).toBe(stubAnswerFor(prompt));
    expect(requestsFor(`flaky ${outcome}`)).toHaveLength(2);
  });

  it('completes a job once when its worker is SIGKILLed mid-job', async () => {
    const prompt = 'worker dies [[stub:latency=4000]]';
    const accepted = await enqueue(prompt);
    // Killed while its provider call is in flight, not merely after the status write.
    await waitFor(async () => (requestsFor('worker dies').length > 0 ? true : undefined), 'the provider call');
    await worker!.stop('SIGKILL');
    worker = await startWorker(env);
    const completed = await until(accepted.jobId, 'completed', 30_000).catch((error) => {
      throw new Error(`${error.message}\n${worker!.output()}`);
    });
    expect(completed.generatedContent).toBe(stubAnswerFor(prompt));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await job(accepted.jobId)).status).toBe('completed');
    expect(requestsFor('worker dies').length).toBeGreaterThanOrEqual(2);
    expect((await job(accepted.jobId)).attempts).toBe(requestsFor('worker dies').length);
    await announced(accepted.jobId);
    expect(await completions(accepted.jobId)).toHaveLength(1);
  }, 60_000);

  it('drains on SIGTERM: the active job finishes before the worker exits', async () => {
    const prompt = 'graceful [[stub:latency=800]]';
    const accepted = await enqueue(prompt);
    await until(accepted.jobId, 'processing');
    await worker!.stop('SIGTERM');
    expect(worker!.child.exitCode).toBe(0);
    expect((await job(accepted.jobId)).status).toBe('completed');
    worker = await startWorker(env);
  });
});

describe('Generation jobs over HTTP (no worker needed)', () => {
  let api: RunningApi;
  let env: Record<string, string>;
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  const as = (who: { token: string }, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(api.url, method, path, { token: who.token, body, headers });

  let probe: JobStateProbe;

  beforeAll(async () => {
    // A long delay keeps every job queued: nothing here should run.
    env = testEnv('jobs-http', { JOB_DELAY_MS: '600000', MAX_ACTIVE_JOBS_PER_USER: '3', MAX_PROMPT_LENGTH: '100', RECONCILE_GRACE_MS: '1000' });
    api = await startApi(env);
    alice = await registerUser(api.url, 'Alice');
    bob = await registerUser(api.url, 'Bob');
    probe = new JobStateProbe(env);
  });
  afterAll(async () => {
    probe.close();
    await api.close();
  });

  it('answers 202 with the contract fields, accepts slugs and lists newest first', async () => {
    const first = await as(alice, 'POST', '/generate-content', { prompt: 'one', contentType: 'product-description' });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({
      message: expect.any(String),
      jobId: expect.any(String),
      status: 'queued',
      delaySeconds: 600,
      scheduledFor: expect.any(String),
      estimatedCompletionTime: expect.any(String),
    });
    const second = await as(alice, 'POST', '/generate-content', { prompt: 'two', contentType: 'Social Media Caption' });
    const list = await as(alice, 'GET', '/generate-content');
    expect(list.body.map((item: { jobId: string }) => item.jobId).slice(0, 2)).toEqual([second.body.jobId, first.body.jobId]);
    const got = await as(alice, 'GET', `/generate-content/${first.body.jobId}`);
    expect(got.body).toMatchObject({ jobId: first.body.jobId, userId: alice.id, contentType: 'Product Description', status: 'queued' });
    expect(got.body.idempotencyKey).toBeUndefined();
  });

  it('gives user B 404 on every job route for user A’s job', async () => {
    const { body } = await as(alice, 'POST', '/generate-content', { prompt: 'private', contentType: 'blog-post' });
    expect((await as(bob, 'GET', `/generate-content/${body.jobId}`)).status).toBe(404);
    expect((await as(bob, 'POST', `/generate-content/${body.jobId}/save`, {})).status).toBe(404);
    expect((await as(bob, 'GET', '/generate-content')).body.map((item: { jobId: string }) => item.jobId)).not.toContain(body.jobId);
  });

  it('answers 409 with currentStatus when saving a job that is not completed', async () => {
    const list = await as(alice, 'GET', '/generate-content');
    const response = await as(alice, 'POST', `/generate-content/${list.body[0].jobId}/save`, {});
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ currentStatus: 'queued', message: expect.any(String) });
  });

  it.each(['not-a-uuid', '123', '%7B%22%24ne%22%3Anull%7D'])('answers 404 for the id %s', async (id) => {
    expect((await as(alice, 'GET', `/generate-content/${id}`)).status).toBe(404);
    expect((await as(alice, 'POST', `/generate-content/${id}/save`, {})).status).toBe(404);
  });

  it.each([
    ['prompt', { contentType: 'blog-post' }],
    ['prompt', { prompt: '   ', contentType: 'blog-post' }],
    ['prompt', { prompt: 'x'.repeat(101), contentType: 'blog-post' }],
    ['contentType', { prompt: 'ok', contentType: 'poem' }],
    ['userId', { prompt: 'ok', contentType: 'blog-post', userId: 'someone' }],
  ])('refuses a bad %s with 400', async (field, body) => {
    const response = await as(bob, 'POST', '/generate-content', body);
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(field);
  });

  it('returns the same job for a retried POST with the same Idempotency-Key', async () => {
    const body = { prompt: 'idempotent', contentType: 'blog-post' };
    const first = await as(bob, 'POST', '/generate-content', body, { 'Idempotency-Key': 'retry-1' });
    const again = await as(bob, 'POST', '/generate-content', body, { 'Idempotency-Key': 'retry-1' });
    expect(again.status).toBe(202);
    expect(again.body.jobId).toBe(first.body.jobId);
    const other = await as(bob, 'POST', '/generate-content', { ...body, prompt: 'different' }, { 'Idempotency-Key': 'retry-1' });
    expect(other.status).toBe(422);
    const jobs = await as(bob, 'GET', '/generate-content');
    expect(jobs.body.filter((job: { prompt: string }) => job.prompt === 'idempotent')).toHaveLength(1);
  });

  it('caps a user’s unfinished jobs with 429', async () => {
    const carol = await registerUser(api.url, 'Carol');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await as(carol, 'POST', '/generate-content', { prompt: `job ${i}`, contentType: 'blog-post' })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
  });

  it('frees slots a crashed request leaked, so they never lock a user out', async () => {
    const erin = await registerUser(api.url, 'Erin');
    // As after a crash between taking a slot and writing the record: the user looks full, no job is unfinished.
    const longAgo = Date.now() - 60_000;
    for (const jobId of ['lost-1', 'lost-2', 'lost-3']) await probe.leakSlot(erin.id, jobId, longAgo);
    expect((await as(erin, 'POST', '/generate-content', { prompt: 'after a leak', contentType: 'blog-post' })).status).toBe(202);
    expect(await probe.slotCount(erin.id)).toBe(1);
  });

  it('holds the cap under 60 concurrent requests: exactly the cap is accepted', async () => {
    const crowded = await startApi({ ...env, MAX_ACTIVE_JOBS_PER_USER: '20' });
    try {
      const frank = await registerUser(api.url, 'Frank');
      const statuses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => http(crowded.url, 'POST', '/generate-content', { token: frank.token, body: { prompt: `crowd ${i}`, contentType: 'blog-post' } }).then((r) => r.status)),
      );
      expect(statuses.filter((status) => status === 202)).toHaveLength(20);
      expect(statuses.filter((status) => status === 429)).toHaveLength(40);
      expect((await as(frank, 'GET', '/generate-content?limit=100')).body).toHaveLength(20);
      expect(await probe.slotCount(frank.id)).toBe(20);
    } finally {
      await crowded.close();
    }
  });

  it('creates one job for 20 concurrent requests with one Idempotency-Key', async () => {
    const gina = await registerUser(api.url, 'Gina');
    const body = { prompt: 'raced', contentType: 'blog-post' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => as(gina, 'POST', '/generate-content', body, { 'Idempotency-Key': 'race-1' })));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(202));
    expect(new Set(responses.map((response) => response.body.jobId)).size).toBe(1);
    expect((await as(gina, 'GET', '/generate-content')).body).toHaveLength(1);
    expect(await probe.slotCount(gina.id)).toBe(1);
  });

  it('answers 503 and keeps no record when Redis refuses the job', async () => {
    const broken = await startApi({ ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const dave = await registerUser(api.url, 'Dave');
      const response = await http(broken.url, 'POST', '/generate-content', { token: dave.token, body: { prompt: 'lost?', contentType: 'blog-post' } });
      expect(response.status).toBe(503);
      expect(response.body.message).toEqual(expect.any(String));
      expect((await as(dave, 'GET', '/generate-content')).body).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
