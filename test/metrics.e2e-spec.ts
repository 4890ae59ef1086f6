import { randomUUID } from 'node:crypto';
import { freePort } from '../scripts/services';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { connectSocket } from './support/socket';
import { testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

/** Prometheus text from a /metrics endpoint, read with the scrape token (null: without one). */
async function scrape(base: string, token: string | null = METRICS_TOKEN): Promise<{ status: number; contentType: string | null; body: string }> {
  const response = await fetch(`${base}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/** The value of one sample line (`name{labels} value`), undefined when absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * GET /metrics on the API (route templates as labels, METRICS_TOKEN) and the worker's own small HTTP
 * server (WORKER_METRICS_PORT): /metrics with the job metrics, /health and /health/ready.
 */
describe('Metrics (API /metrics and the worker metrics server)', () => {
  let api: RunningApi;
  let worker: RunningWorker | undefined;
  let workerUrl: string;
  let user: { token: string; id: string };

  beforeAll(async () => {
    const env = testEnv('metrics', { METRICS_TOKEN });
    api = await startApi(env);
    const port = await freePort();
    workerUrl = `http://127.0.0.1:${port}`;
    worker = await startWorker({ ...env, WORKER_METRICS_PORT: String(port) });
    user = await registerUser(api.url);
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.close();
  });

  it('requires the bearer METRICS_TOKEN on the API when it is set', async () => {
    expect((await scrape(api.url, null)).status).toBe(401);
    expect((await scrape(api.url, 'wrong-token')).status).toBe(401);
    const allowed = await scrape(api.url);
    expect(allowed.status).toBe(200);
    expect(allowed.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(allowed.body).toContain('# TYPE process_cpu_seconds_total counter');
    // The API reads the queue's counts too, so queue depth shows while no worker runs.
    expect(sample(allowed.body, 'aicg_queue_jobs{state="waiting"}')).toEqual(expect.any(Number));
  });

  it('labels request durations with the route template, never with raw ids or unknown paths', async () => {
    const missingJobId = randomUUID();
    const strayId = randomUUID();
    expect((await http(api.url, 'GET', `/generate-content/${missingJobId}`, { token: user.token })).status).toBe(404);
    expect((await http(api.url, 'GET', `/generate-content/${missingJobId}`, { token: user.token })).status).toBe(404);
    expect((await http(api.url, 'GET', '/generate-content', { token: user.token })).status).toBe(200);
    expect((await http(api.url, 'GET', `/no-such-route/${strayId}`)).status).toBe(404);

    // onResponse runs after the answer is sent: wait until the last request is counted.
    const { body } = await waitFor(async () => {
      const scraped = await scrape(api.url);
      return sample(scraped.body, 'http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}') ? scraped : undefined;
    }, 'the unmatched request to be counted');
    expect(sample(body, 'http_request_duration_seconds_count{method="GET",route="/generate-content/:jobId",status_code="404"}')).toBe(2);
    expect(sample(body, 'http_request_duration_seconds_count{method="GET",route="/generate-content",status_code="200"}')).toBe(1);
    expect(sample(body, 'http_request_duration_seconds_count{method="POST",route="/auth/register",status_code="201"}')).toBeGreaterThanOrEqual(1);
    expect(body).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/generate-content/:jobId",status_code="404"}');
    expect(body).not.toContain(missingJobId);
    expect(body).not.toContain(strayId);
    expect(body).not.toContain('no-such-route');
  });

  it('counts connected sockets on the API', async () => {
    const socket = await connectSocket(api.url, user.token);
    await waitFor(async () => (sample((await scrape(api.url)).body, 'aicg_socket_connections') === 1 ? true : undefined), 'the socket to be counted');
    socket.disconnect();
    await waitFor(async () => (sample((await scrape(api.url)).body, 'aicg_socket_connections') === 0 ? true : undefined), 'the socket to be uncounted');
  });

  it('serves /health and /health/ready on the worker', async () => {
    const live = await http(workerUrl, 'GET', '/health');
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await http(workerUrl, 'GET', '/health/ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ok', checks: { mongodb: 'up', redis: 'up' } } });
    expect((await http(workerUrl, 'GET', '/nothing-here')).status).toBe(404);
  });

  it('shows the finished job, its durations and the queue on the worker /metrics (with the token)', async () => {
    expect((await scrape(workerUrl, null)).status).toBe(401);
    const accepted = await http(api.url, 'POST', '/generate-content', { token: user.token, body: { prompt: 'Metrics for a mountain bike', contentType: 'blog-post' } });
    expect(accepted.status).toBe(202);
    const { jobId } = accepted.body as { jobId: string };
    await waitFor(async () => {
      const job = await http(api.url, 'GET', `/generate-content/${jobId}`, { token: user.token });
      return job.body.status === 'completed' ? true : undefined;
    }, `job ${jobId} to complete`);

    const { body } = await waitFor(async () => {
      const scraped = await scrape(workerUrl);
      // The finisher counts before BullMQ moves the job to completed: wait for both.
      const counted = sample(scraped.body, 'aicg_jobs_finished_total{status="completed",content_type="Blog Post Outline"}') === 1;
      return counted && (sample(scraped.body, 'aicg_queue_jobs{state="completed"}') ?? 0) >= 1 ? scraped : undefined;
    }, 'the finished job to be counted on the worker');
    expect(sample(body, 'aicg_job_duration_seconds_count{status="completed",content_type="Blog Post Outline"}')).toBe(1);
    expect(sample(body, 'aicg_generation_duration_seconds_count{model="offline"}')).toBe(1);
    expect(sample(body, 'aicg_queue_jobs{state="completed"}')).toBeGreaterThanOrEqual(1);
    expect(sample(body, 'aicg_queue_jobs{state="waiting"}')).toBe(0);
    expect(body).toContain('# TYPE aicg_llm_errors_total counter');
    expect(body).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
    expect(body).not.toContain(jobId);
  });

  it('starts a second worker on a taken metrics port without its metrics server, saying so', async () => {
    const port = new URL(workerUrl).port;
    const second = await startWorker(testEnv('metrics', { METRICS_TOKEN, WORKER_METRICS_PORT: port }));
    try {
      const refused = new RegExp(`Metrics server not started on port ${port}: .*EADDRINUSE`);
      await waitFor(() => (refused.test(second.output()) ? true : undefined), () => `the refusal in the second worker's log:\n${second.output()}`);
      expect((await http(workerUrl, 'GET', '/health')).status).toBe(200);
    } finally {
      await second.stop('SIGKILL');
    }
  });
});
