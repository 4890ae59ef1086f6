import type { ContentType, GenerationOptions, JobStatus, TokenUsage } from '@app/common';
import type { OutlineSection, ProductCopy } from '@app/llm';
import type { TraceCarrier } from '@app/tracing';

export const GENERATION_QUEUE = 'content-generation';
/** Housekeeping jobs (the reconciler, the retention cleanup), run by one worker at a time. */
export const MAINTENANCE_QUEUE = 'maintenance';

export { JOB_STATUSES, type JobStatus } from '@app/common';
export const UNFINISHED_STATUSES: JobStatus[] = ['queued', 'processing'];

/** Job name → payload, the one map both the queue and the processor read. */
export interface JobPayloadMap {
  /** The trace context (traceparent) of the request that queued it rides along, when tracing is on. */
  generate: { jobId: string; userId: string; correlationId: string } & TraceCarrier;
}
export type JobName = keyof JobPayloadMap;

/** Maintenance job name → payload. */
export interface MaintenancePayloadMap {
  reconcile: Record<string, never>;
  cleanup: Record<string, never>;
}
export type MaintenanceJobName = keyof MaintenancePayloadMap;

/** A job as the API returns it (contract fields plus provenance). */
export interface JobView {
  _id: string;
  jobId: string;
  userId: string;
  prompt: string;
  contentType: ContentType;
  status: JobStatus;
  scheduledFor: Date;
  createdAt: Date;
  updatedAt: Date;
  generatedContent?: string;
  completedAt?: Date;
  error?: string;
  attempts: number;
  provider?: string;
  model?: string;
  usage?: TokenUsage;
  durationMs?: number;
  finishReason?: string;
  /** How often an admin queued the job again after it failed. */
  retries?: number;
  /** The OpenTelemetry trace of the request that created it (when tracing is on). */
  traceId?: string;
  /** What the user asked for besides the prompt. */
  options?: GenerationOptions;
  /** The template the prompt was rendered from (`prompt` holds the rendered text). */
  templateId?: string;
  /** Every answer when more than one was asked for (`generatedContent` is the first). */
  variants?: string[];
  /** Whether the answer keeps its content type's output contract, after at most one repair request. */
  validation?: JobValidation;
  /** Blog Post Outline: the sections of `generatedContent`. */
  outline?: OutlineSection[];
  /** Product Description: `generatedContent` in its parts. */
  product?: ProductCopy;
  /** Set when the job was cancelled. */
  cancelledAt?: Date;
  /** The batch it belongs to (POST /generate-content/batch) and its 0-based place in it. */
  batchId?: string;
  batchIndex?: number;
}

export interface JobValidation {
  ok: boolean;
  problems: string[];
}

/** What a successful generation stores on the record. */
export interface JobResult {
  generatedContent: string;
  provider: string;
  model: string;
  usage?: TokenUsage;
  durationMs: number;
  finishReason?: string;
  generationId?: string;
  variants?: string[];
  validation?: JobValidation;
  outline?: OutlineSection[];
  product?: ProductCopy;
}

/** A job's decided end, kept in Redis until the record holds it and the user was told. */
export type JobOutcome = { attempts: number } & (
  | { status: 'completed'; result: JobResult }
  | { status: 'failed'; error: string }
  /** The user cancelled it; `usage` is what the provider calls finished before the cancel cost. */
  | { status: 'cancelled'; usage?: TokenUsage }
);
