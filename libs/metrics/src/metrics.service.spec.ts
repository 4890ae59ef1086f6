import { LlmBadRequestError, LlmRateLimitError, LlmServerError, LlmTimeoutError } from '@app/llm';
import { MetricsService, scrapeAllowed } from './metrics.service';

/** The sample lines of one metric, without HELP and TYPE. */
async function samples(sut: MetricsService, name: string): Promise<string[]> {
  const { body } = await sut.render();
  return body.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe(MetricsService.name, () => {
  let sut: MetricsService;

  beforeEach(() => {
    sut = new MetricsService();
  });

  afterEach(() => jest.useRealTimers());

  it('renders Prometheus text with every product metric and the default process metrics', async () => {
    const { contentType, body } = await sut.render();

    expect(contentType).toMatch(/^text\/plain/);
    for (const name of [
      'http_request_duration_seconds',
      'aicg_jobs_finished_total',
      'aicg_job_duration_seconds',
      'aicg_generation_duration_seconds',
      'aicg_queue_jobs',
      'aicg_llm_tokens_total',
      'aicg_llm_cost_usd_total',
      'aicg_llm_errors_total',
      'aicg_socket_connections',
      'aicg_jobs_deleted_total',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
  });

  it('keeps two instances apart (one registry each)', async () => {
    const other = new MetricsService();
    other.socketConnected();

    expect(await samples(sut, 'aicg_socket_connections')).toEqual(['aicg_socket_connections 0']);
    expect(await samples(other, 'aicg_socket_connections')).toEqual(['aicg_socket_connections 1']);
  });

  it('labels HTTP requests with the route template, an unmatched route and unknown methods as fixed values', async () => {
    sut.httpRequestServed('GET', '/generate-content/:jobId', 200, 0.012);
    sut.httpRequestServed('GET', undefined, 404, 0.001);
    sut.httpRequestServed('PROPFIND', undefined, 404, 0.001);

    const lines = await samples(sut, 'http_request_duration_seconds_count');
    expect(lines).toEqual([
      'http_request_duration_seconds_count{method="GET",route="/generate-content/:jobId",status_code="200"} 1',
      'http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"} 1',
      'http_request_duration_seconds_count{method="OTHER",route="unmatched",status_code="404"} 1',
    ]);
    expect(await samples(sut, 'http_request_duration_seconds_bucket')).toContain(
      'http_request_duration_seconds_bucket{le="0.025",method="GET",route="/generate-content/:jobId",status_code="200"} 1',
    );
  });

  it('counts finished jobs by status and content type, with their enqueue-to-finish duration', async () => {
    sut.jobFinished({ status: 'completed', contentType: 'Blog Post Outline', durationMs: 1500 });
    sut.jobFinished({ status: 'completed', contentType: 'Blog Post Outline', durationMs: 2500 });
    sut.jobFinished({ status: 'failed', contentType: 'Social Media Caption' });

    expect(await samples(sut, 'aicg_jobs_finished_total')).toEqual([
      'aicg_jobs_finished_total{status="completed",content_type="Blog Post Outline"} 2',
      'aicg_jobs_finished_total{status="failed",content_type="Social Media Caption"} 1',
    ]);
    expect(await samples(sut, 'aicg_job_duration_seconds_sum')).toEqual(['aicg_job_duration_seconds_sum{status="completed",content_type="Blog Post Outline"} 4']);
  });

  it('records a generation: its duration, prompt and completion tokens and cost (0 when unreported)', async () => {
    sut.generationFinished({ model: 'openai/gpt-4o-mini', durationMs: 2000, usage: { promptTokens: 10, completionTokens: 90, cost: 0.0004 } });
    sut.generationFinished({ model: 'meta/llama', durationMs: 500, usage: { promptTokens: 5, completionTokens: 7 } });
    sut.generationFinished({ model: 'offline', durationMs: 10 });

    expect(await samples(sut, 'aicg_generation_duration_seconds_count')).toEqual([
      'aicg_generation_duration_seconds_count{model="openai/gpt-4o-mini"} 1',
      'aicg_generation_duration_seconds_count{model="meta/llama"} 1',
      'aicg_generation_duration_seconds_count{model="offline"} 1',
    ]);
    expect(await samples(sut, 'aicg_llm_tokens_total')).toEqual([
      'aicg_llm_tokens_total{model="openai/gpt-4o-mini",kind="prompt"} 10',
      'aicg_llm_tokens_total{model="openai/gpt-4o-mini",kind="completion"} 90',
      'aicg_llm_tokens_total{model="meta/llama",kind="prompt"} 5',
      'aicg_llm_tokens_total{model="meta/llama",kind="completion"} 7',
    ]);
    expect(await samples(sut, 'aicg_llm_cost_usd_total')).toEqual(['aicg_llm_cost_usd_total{model="openai/gpt-4o-mini"} 0.0004', 'aicg_llm_cost_usd_total{model="meta/llama"} 0']);
  });

  it('counts provider errors by kind, and nothing for errors that are not the provider’s', async () => {
    sut.generationFailed('m', new LlmRateLimitError('429', 1000));
    sut.generationFailed('m', new LlmRateLimitError('429'));
    sut.generationFailed('m', new LlmServerError('502', 502));
    sut.generationFailed('m', new LlmTimeoutError('timeout'));
    sut.generationFailed('m', new LlmBadRequestError('400'));
    sut.generationFailed('m', new DOMException('aborted', 'AbortError'));
    sut.generationFailed('m', new Error('a bug'));

    expect(await samples(sut, 'aicg_llm_errors_total')).toEqual([
      'aicg_llm_errors_total{model="m",kind="rate_limit"} 2',
      'aicg_llm_errors_total{model="m",kind="server"} 1',
      'aicg_llm_errors_total{model="m",kind="timeout"} 1',
      'aicg_llm_errors_total{model="m",kind="bad_request"} 1',
    ]);
  });

  it('keeps the model label bounded: past 50 distinct models the rest count as other', async () => {
    for (let index = 0; index < 55; index++) sut.generationFinished({ model: `model-${index}`, durationMs: 1 });
    sut.generationFinished({ model: 'model-3', durationMs: 1 });

    const lines = await samples(sut, 'aicg_generation_duration_seconds_count');
    expect(lines).toHaveLength(51);
    expect(lines).toContain('aicg_generation_duration_seconds_count{model="other"} 5');
    expect(lines).toContain('aicg_generation_duration_seconds_count{model="model-3"} 2');
  });

  it('tracks connected sockets', async () => {
    sut.socketConnected();
    sut.socketConnected();
    sut.socketDisconnected();

    expect(await samples(sut, 'aicg_socket_connections')).toEqual(['aicg_socket_connections 1']);
  });

  it('counts what retention deleted, by kind', async () => {
    sut.retentionRan({ records: 3, queueEntries: 1, ledgers: 2 });
    sut.retentionRan({ records: 2, queueEntries: 0, ledgers: 0 });

    expect(await samples(sut, 'aicg_jobs_deleted_total')).toEqual([
      'aicg_jobs_deleted_total{what="records"} 5',
      'aicg_jobs_deleted_total{what="queue_entries"} 1',
      'aicg_jobs_deleted_total{what="ledgers"} 2',
    ]);
  });

  it('reads queue counts at scrape time, by state', async () => {
    let waiting = 3;
    sut.countQueueWith(async () => ({ waiting, delayed: 1, active: 2, completed: 7, failed: 0, unknownState: 9 }));

    expect(await samples(sut, 'aicg_queue_jobs')).toEqual([
      'aicg_queue_jobs{state="waiting"} 3',
      'aicg_queue_jobs{state="delayed"} 1',
      'aicg_queue_jobs{state="active"} 2',
      'aicg_queue_jobs{state="completed"} 7',
      'aicg_queue_jobs{state="failed"} 0',
    ]);
    waiting = 0;
    expect(await samples(sut, 'aicg_queue_jobs')).toContain('aicg_queue_jobs{state="waiting"} 0');
  });

  it('answers a scrape without queue counts when the queue fails or does not answer within 1 s', async () => {
    sut.countQueueWith(() => Promise.reject(new Error('Connection is closed.')));
    expect(await samples(sut, 'aicg_queue_jobs')).toEqual([]);

    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    sut.countQueueWith(() => new Promise(() => undefined));
    const scrape = samples(sut, 'aicg_queue_jobs');
    await jest.advanceTimersByTimeAsync(1000);

    expect(await scrape).toEqual([]);
  });
});

describe(scrapeAllowed.name, () => {
  it('allows every scrape when no token is configured', () => {
    expect(scrapeAllowed(undefined, undefined)).toBe(true);
    expect(scrapeAllowed('Bearer anything', '')).toBe(true);
  });

  it('wants exactly the bearer token when one is configured', () => {
    expect(scrapeAllowed('Bearer s3cret-token', 's3cret-token')).toBe(true);
    expect(scrapeAllowed(undefined, 's3cret-token')).toBe(false);
    expect(scrapeAllowed('Bearer s3cret-tokem', 's3cret-token')).toBe(false);
    expect(scrapeAllowed('Bearer s3cret-token ', 's3cret-token')).toBe(false);
    expect(scrapeAllowed('s3cret-token', 's3cret-token')).toBe(false);
  });
});
