import type { ContentType, JobStatus, TokenUsage } from '@app/common';
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
}

/** A job's decided end, kept in Redis until the record holds it and the user was told. */
export type JobOutcome = { attempts: number } & ({ status: 'completed'; result: JobResult } | { status: 'failed'; error: string });
