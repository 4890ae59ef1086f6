import { readFileSync } from 'node:fs';
import type { Socket } from 'socket.io-client';
import { http, jobWhen, registerUser, RunningApi, startApi } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { connectSocket, disconnectAll, nextEvent, ReceivedEvent, receivedEvents } from './support/socket';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const MAX_CHARS = 2000;
const MB = 1024 * 1024;

/** The worker process's resident memory, from the kernel. */
function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * Answers larger than LLM_MAX_OUTPUT_CHARS, and streams that never end, against the real worker process:
 * the job fails for good with the limit in its error, and the worker's memory stays flat.
 */
describe('LLM answer bounds (API + worker process + OpenRouter stand-in)', () => {
  let stub: OpenRouterStub;
  let api: RunningApi;
  let worker: RunningWorker | undefined;
  let user: { token: string; id: string };
  let socket: Socket;
  let jobCount = 0;

  const call = (method: string, path: string, options: Parameters<typeof http>[3] = {}) => http(api.url, method, path, { token: user.token, ...options });
  /** Enqueues a prompt made unique by a counter, so the stub's requests can be told apart per test. */
  const enqueue = async (outcome: string): Promise<{ jobId: string; prompt: string }> => {
    const prompt = `Bounds ${++jobCount}: a product launch [[stub:respond=${outcome}]]`;
    const response = await call('POST', '/generate-content', { body: { prompt, contentType: 'blog-post' } });
    expect(response.status).toBe(202);
    return { jobId: response.body.jobId, prompt };
  };
  const untilFinished = (jobId: string) => jobWhen(api.url, user.token, jobId, ['completed', 'failed']);
  const requestsFor = (prompt: string) => stub.requests.filter((request) => request.prompt === prompt);

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    const env = testEnv('llm-bounds', {
      ...openRouterStubEnv(stub),
      // Long enough that only the output bounds, not the timeout, can end the endless streams in time.
      OPENROUTER_TIMEOUT_MS: '15000',
      LLM_MAX_OUTPUT_CHARS: String(MAX_CHARS),
      JOB_BACKOFF_MS: '200',
      RATE_LIMIT_MAX: '1000',
      RATE_LIMIT_DURATION_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
    });
    api = await startApi(env);
    worker = await startWorker(env);
    user = await registerUser(api.url);
    socket = await connectSocket(api.url, user.token);
  });

  afterAll(async () => {
    disconnectAll();
    await worker?.stop('SIGKILL');
    await api?.close();
    await stub?.close();
  });

  it.each(['huge', 'huge-json'])('a %s answer of 12 MB fails the job for good, with deltas within the limit', async (outcome) => {
    const { jobId, prompt } = await enqueue(outcome);

    const finished = await untilFinished(jobId);
    await nextEvent(socket, 'job_completed', (payload) => payload.jobId === jobId, 5000);

    expect(finished.status).toBe('failed');
    expect(finished.error).toContain(`${MAX_CHARS} characters`);
    expect(finished.generatedContent).toBeUndefined();
    const deltas = (receivedEvents(socket, ['job_delta']) as ReceivedEvent<'job_delta'>[]).filter((event) => event.payload.jobId === jobId);
    expect(deltas.reduce((sum, event) => sum + event.payload.text.length, 0)).toBeLessThanOrEqual(MAX_CHARS);
    // Not retried: a retry would come after JOB_BACKOFF_MS (200 ms).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(requestsFor(prompt)).toHaveLength(1);
  });

  it.each(['endless', 'endless-line', 'endless-comments'])('an %s stream fails the job and raises the worker RSS by less than 100 MB', async (outcome) => {
    const pid = worker!.child.pid!;
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
    try {
      const { jobId, prompt } = await enqueue(outcome);

      const finished = await untilFinished(jobId);

      expect(finished.status).toBe('failed');
      expect(finished.error).toContain(`${MAX_CHARS} characters`);
      expect(requestsFor(prompt)).toHaveLength(1);
      // The worker let go of the connection: the stub stopped writing.
      await waitFor(async () => requestsFor(prompt)[0].response, 'the stub to see the connection closed', 5000);
      expect(requestsFor(prompt)[0].response?.complete).toBe(false);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssBytes(pid));
    expect(peak - before).toBeLessThan(100 * MB);
  });
});
