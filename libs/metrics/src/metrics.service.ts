import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LlmError, LlmErrorCode } from '@app/llm';

/** BullMQ states `aicg_queue_jobs` reports, in getJobCounts' names. */
export const QUEUE_STATES = ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
export type QueueCounts = Partial<Record<string, number>>;

/** A scrape waits this long for BullMQ's counts, then reports none rather than hanging Prometheus. */
const QUEUE_COUNT_TIMEOUT_MS = 1000;
/** Distinct model label values kept; further ones are counted as `other` (models come from the provider's answer). */
const MAX_MODELS = 50;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_SLOW = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

const LLM_ERROR_KINDS: Record<LlmErrorCode, string> = {
  LLM_TIMEOUT: 'timeout',
  LLM_NETWORK: 'network',
  LLM_RATE_LIMITED: 'rate_limit',
  LLM_SERVER_ERROR: 'server',
  LLM_BAD_REQUEST: 'bad_request',
  LLM_AUTH: 'auth',
  LLM_PAYMENT_REQUIRED: 'payment_required',
  LLM_RESPONSE_ERROR: 'bad_response',
  LLM_EMPTY_RESPONSE: 'empty_response',
  LLM_OUTPUT_TOO_LARGE: 'output_too_large',
};

export interface FinishedJob {
  status: 'completed' | 'failed' | 'cancelled';
  contentType: string;
  /** Enqueue to finish. */
  durationMs?: number;
}

export interface FinishedGeneration {
  model: string;
  durationMs: number;
  usage?: { promptTokens: number; completionTokens: number; cost?: number };
}

/**
 * Every Prometheus metric the product defines, on a registry of this instance (several apps may share a
 * test process). Methods name what happened; each is a counter or histogram update, nothing slower.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly models = new Set<string>();
  private countQueue?: () => Promise<QueueCounts>;

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: SECONDS_FAST,
    registers: [this.registry],
  });
  private readonly jobsFinished = new Counter({
    name: 'aicg_jobs_finished_total',
    help: 'Generation jobs that reached completed, failed or cancelled',
    labelNames: ['status', 'content_type'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'aicg_job_duration_seconds',
    help: 'Generation jobs from enqueue to finish (delay, queueing, retries included)',
    labelNames: ['status', 'content_type'] as const,
    buckets: SECONDS_SLOW,
    registers: [this.registry],
  });
  private readonly generationDuration = new Histogram({
    name: 'aicg_generation_duration_seconds',
    help: 'Successful LLM provider calls, request to last token',
    labelNames: ['model'] as const,
    buckets: SECONDS_SLOW,
    registers: [this.registry],
  });
  private readonly llmTokens = new Counter({
    name: 'aicg_llm_tokens_total',
    help: 'Tokens the LLM provider reported, by model and kind (prompt or completion)',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly llmCost = new Counter({
    name: 'aicg_llm_cost_usd_total',
    help: 'Cost the LLM provider reported (OpenRouter credits, USD); 0 when it reports none',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  private readonly llmErrors = new Counter({
    name: 'aicg_llm_errors_total',
    help: 'Failed LLM provider calls by model and kind (rate_limit, server, timeout, bad_request, ...)',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly jobsDeleted = new Counter({
    name: 'aicg_jobs_deleted_total',
    help: 'What job retention deleted: records, their BullMQ entries and their ledgers',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  private readonly sockets = new Gauge({
    name: 'aicg_socket_connections',
    help: 'Socket.IO clients connected to this API instance',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counts = () => this.queueCounts();
    new Gauge({
      name: 'aicg_queue_jobs',
      help: 'Generation queue jobs by BullMQ state, read at scrape time',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const current = await counts();
        for (const state of QUEUE_STATES) if (current[state] !== undefined) this.set({ state }, current[state]!);
      },
    });
  }

  /** The text Prometheus scrapes. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** `route` is the route template (`/generate-content/:jobId`); undefined when no route matched. */
  httpRequestServed(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method: HTTP_METHODS.has(method) ? method : 'OTHER', route: route ?? 'unmatched', status_code: statusCode }, seconds);
  }

  jobFinished(job: FinishedJob): void {
    const labels = { status: job.status, content_type: job.contentType };
    this.jobsFinished.inc(labels);
    if (job.durationMs !== undefined && job.durationMs >= 0) this.jobDuration.observe(labels, job.durationMs / 1000);
  }

  generationFinished(generation: FinishedGeneration): void {
    const model = this.modelLabel(generation.model);
    this.generationDuration.observe({ model }, generation.durationMs / 1000);
    if (!generation.usage) return;
    this.llmTokens.inc({ model, kind: 'prompt' }, generation.usage.promptTokens);
    this.llmTokens.inc({ model, kind: 'completion' }, generation.usage.completionTokens);
    this.llmCost.inc({ model }, generation.usage.cost ?? 0);
  }

  /** One retention run's deletions (JOB_RETENTION_MS). */
  retentionRan(deleted: { records: number; queueEntries: number; ledgers: number }): void {
    this.jobsDeleted.inc({ what: 'records' }, deleted.records);
    this.jobsDeleted.inc({ what: 'queue_entries' }, deleted.queueEntries);
    this.jobsDeleted.inc({ what: 'ledgers' }, deleted.ledgers);
  }

  /** Counts provider failures only (LlmError); aborts and our own bugs are not the provider's errors. */
  generationFailed(model: string, error: unknown): void {
    if (error instanceof LlmError) this.llmErrors.inc({ model: this.modelLabel(model), kind: LLM_ERROR_KINDS[error.code] ?? 'other' });
  }

  socketConnected(): void {
    this.sockets.inc();
  }

  socketDisconnected(): void {
    this.sockets.dec();
  }

  /** Where `aicg_queue_jobs` reads BullMQ's counts at scrape time. */
  countQueueWith(count: () => Promise<QueueCounts>): void {
    this.countQueue = count;
  }

  private async queueCounts(): Promise<QueueCounts> {
    if (!this.countQueue) return {};
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<QueueCounts>((resolve) => (timer = setTimeout(() => resolve({}), QUEUE_COUNT_TIMEOUT_MS)));
    try {
      // Redis away: the scrape still answers, without queue counts.
      return await Promise.race([this.countQueue().catch(() => ({})), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private modelLabel(model: string): string {
    if (this.models.has(model)) return model;
    if (this.models.size >= MAX_MODELS) return 'other';
    this.models.add(model);
    return model;
  }
}

/** A scrape is allowed without a token configured, or with `Authorization: Bearer <token>`. */
export function scrapeAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
