import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { userKeyPrefix } from '@app/common';
import { freePort, ROOT, stopProcess, waitForPort } from '../scripts/services';
import { http, jobWhen, registerUser } from './support/api';
import { OpenRouterStub, openRouterStubEnv, startOpenRouterStub } from './support/openrouter-stub';
import { OtlpReceiver, ReceivedSpan, startOtlpReceiver } from './support/otlp-receiver';
import { Env, testEnv } from './support/test-env';
import { RunningWorker, startWorker, waitFor } from './support/worker';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** The API as production runs it (its own process), so the SDK starts before the modules it instruments. */
async function spawnApi(env: Env): Promise<{ url: string; output(): string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForPort(port, { child });
  return { url: `http://127.0.0.1:${port}`, output: () => output, stop: () => stopProcess(child) };
}

/** The JSON log lines of a process's output; only whole lines, as the process may be writing the last one. */
function logLines(output: string): Record<string, any>[] {
  return output
    .slice(0, output.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/** Runs one job through API and worker with an X-Request-Id; returns what the checks need. */
async function runJob(api: { url: string }, requestId: string) {
  const user = await registerUser(api.url);
  const accepted = await http(api.url, 'POST', '/generate-content', {
    token: user.token,
    body: { prompt: 'A post about traced requests', contentType: 'blog-post' },
    headers: { 'x-request-id': requestId },
  });
  expect(accepted.status).toBe(202);
  expect(accepted.headers.get('x-request-id')).toBe(requestId);
  const jobId = accepted.body.jobId as string;
  const job = await jobWhen(api.url, user.token, jobId, ['completed']);
  return { user, jobId, job };
}

/** The correlation ids of the job's recorded envelopes (job_status, job_completed), from the user's notification stream. */
async function envelopeCorrelationIds(env: Env, userId: string, jobId: string): Promise<{ event: string; cid: string }[]> {
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const entries = (await redis.xrange(`${userKeyPrefix(env.REDIS_PREFIX, userId)}:notifications`, '-', '+')) as [string, string[]][];
    const found: { event: string; cid: string }[] = [];
    for (const [, fields] of entries) {
      const record: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]] = fields[i + 1];
      if (JSON.parse(record.payload).jobId === jobId) found.push({ event: record.event, cid: record.cid });
    }
    return found;
  } finally {
    redis.disconnect();
  }
}

/** Every recorded event of the job (processing, completed, job_completed) carries the request id as its correlation id. */
async function expectCorrelatedEvents(env: Env, userId: string, jobId: string, requestId: string): Promise<void> {
  // job_completed is the last step of a job's end, after its record.
  const envelopes = await waitFor(async () => {
    const found = await envelopeCorrelationIds(env, userId, jobId);
    return found.some((envelope) => envelope.event === 'job_completed') ? found : undefined;
  }, `job ${jobId} to be announced`);
  expect(envelopes.map((envelope) => envelope.event)).toEqual(expect.arrayContaining(['job_status', 'job_completed']));
  for (const envelope of envelopes) expect(envelope).toEqual({ event: envelope.event, cid: requestId });
}

describe('Tracing (OpenTelemetry, OTLP/HTTP JSON)', () => {
  let stub: OpenRouterStub;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    stub = await startOpenRouterStub();
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await stub?.close();
    await receiver?.close();
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
    let env: Env;
    let api: Awaited<ReturnType<typeof spawnApi>>;
    let worker: RunningWorker;

    beforeAll(async () => {
      env = testEnv('tracing-on', {
        ...openRouterStubEnv(stub),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      });
      api = await spawnApi(env);
      worker = await startWorker(env);
    });
    afterAll(async () => {
      await worker?.stop();
      await api?.stop();
    });

    it('follows a request through the API, the queue, the worker, the LLM call, MongoDB and Redis in one trace', async () => {
      const requestId = `trace-${randomUUID()}`;
      const { user, jobId, job } = await runJob(api, requestId);

      const inTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
      const find = (spans: ReceivedSpan[], service: string, test: (span: ReceivedSpan) => boolean) => spans.find((span) => span.service === service && test(span));
      const trace = await waitFor(
        () => {
          const consumer = receiver.spans.find((span) => span.service === 'aicg-worker' && span.kind === CONSUMER && span.attributes['messaging.message.id'] === jobId);
          if (!consumer) return undefined;
          const spans = inTrace(consumer.traceId);
          const parts = {
            consumer,
            request: find(spans, 'aicg-api', (span) => span.kind === SERVER && span.name === 'POST /generate-content'),
            producer: find(spans, 'aicg-api', (span) => span.kind === PRODUCER),
            apiMongo: find(spans, 'aicg-api', (span) => span.attributes['db.system'] === 'mongodb' || span.attributes['db.system.name'] === 'mongodb'),
            apiRedis: find(spans, 'aicg-api', (span) => span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis'),
            llm: find(spans, 'aicg-worker', (span) => span.kind === CLIENT && String(span.attributes['url.full'] ?? '').startsWith(stub.url)),
            workerMongo: find(spans, 'aicg-worker', (span) => span.attributes['db.system'] === 'mongodb' || span.attributes['db.system.name'] === 'mongodb'),
            workerRedis: find(spans, 'aicg-worker', (span) => span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis'),
          };
          return Object.values(parts).every(Boolean) ? (parts as { [K in keyof typeof parts]: ReceivedSpan }) : undefined;
        },
        () => `spans of job ${jobId} from both services; received: ${JSON.stringify(receiver.spans.map((span) => [span.service, span.name, span.traceId]))}`,
      );
      const traceId = trace.consumer.traceId;
      // The worker's job span is a child of the API's enqueue, itself inside the request's span.
      expect(trace.consumer.parentSpanId).toBe(trace.producer.spanId);
      expect(trace.request.attributes['http.request_id']).toBe(requestId);
      expect(trace.consumer.attributes['aicg.correlation_id']).toBe(requestId);
      expect(receiver.requests.every((request) => request.path === '/v1/traces' && request.contentType?.startsWith('application/json'))).toBe(true);

      // The job keeps its trace; the request id is its correlation id up to the socket event's envelope.
      expect(job.traceId).toBe(traceId);
      await expectCorrelatedEvents(env, user.id, jobId, requestId);
      const completedLine = await waitFor(() => logLines(worker.output()).find((line) => line.msg === 'job completed' && line.jobId === jobId), 'the worker to log the job completed');
      expect(completedLine).toMatchObject({ correlationId: requestId, traceId });
      // Every line of the request carries its id and the trace id.
      await waitFor(() => logLines(api.output()).find((line) => line.req?.id === requestId && line.msg === 'request completed'), 'the request to be logged');
      const requestLines = logLines(api.output()).filter((line) => line.req?.id === requestId);
      for (const line of requestLines) expect(line.traceId).toBe(traceId);
    });
  });

  it('flushes the spans still buffered when the API and the worker stop', async () => {
    const flushed = await startOtlpReceiver();
    // Spans would wait ten minutes for their export: only the shutdown can have sent them.
    const env = testEnv('tracing-flush', { ...openRouterStubEnv(stub), OTEL_EXPORTER_OTLP_ENDPOINT: flushed.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '600000' });
    const api = await spawnApi(env);
    // OTEL_SERVICE_NAME wins over the default name.
    const worker = await startWorker({ ...env, OTEL_SERVICE_NAME: 'custom-worker' });
    try {
      const { jobId } = await runJob(api, `flush-${randomUUID()}`);
      await waitFor(() => logLines(worker.output()).find((line) => line.msg === 'job completed' && line.jobId === jobId), 'the worker to log the job completed');
      await worker.stop();
      await api.stop();
      const consumer = flushed.spans.find((span) => span.service === 'custom-worker' && span.attributes['messaging.message.id'] === jobId);
      expect(consumer).toBeDefined();
      expect(flushed.spans.some((span) => span.service === 'aicg-api' && span.traceId === consumer!.traceId && span.kind === SERVER)).toBe(true);
    } finally {
      await worker.stop('SIGKILL');
      await api.stop();
      await flushed.close();
    }
  });

  describe('without an OTLP endpoint', () => {
    let env: Env;
    let api: Awaited<ReturnType<typeof spawnApi>>;
    let worker: RunningWorker;
    let silent: OtlpReceiver;

    beforeAll(async () => {
      silent = await startOtlpReceiver();
      // The other exporters' endpoints (logs, metrics) point at the receiver: without OTEL_EXPORTER_OTLP_ENDPOINT
      // (or its traces-only form, which turns tracing on by itself) none of it may be used.
      env = testEnv('tracing-off', {
        ...openRouterStubEnv(stub),
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${silent.url}/v1/logs`,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${silent.url}/v1/metrics`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      });
      api = await spawnApi(env);
      worker = await startWorker(env);
    });
    afterAll(async () => {
      await worker?.stop();
      await api?.stop();
      await silent?.close();
    });

    it('sends nothing, stores no traceId, and still makes the request id the correlation id', async () => {
      const requestId = `untraced-${randomUUID()}`;
      const { user, jobId, job } = await runJob(api, requestId);
      expect(job.traceId).toBeUndefined();
      await expectCorrelatedEvents(env, user.id, jobId, requestId);
      const completedLine = await waitFor(() => logLines(worker.output()).find((line) => line.msg === 'job completed' && line.jobId === jobId), 'the worker to log the job completed');
      expect(completedLine).toMatchObject({ correlationId: requestId });
      expect(completedLine!.traceId).toBeUndefined();
      await worker.stop();
      await api.stop();
      expect(silent.requests).toEqual([]);
      expect(silent.spans).toEqual([]);
    });
  });
});
