import type { ContentType } from '@app/common';

export const GENERATION_QUEUE = 'content-generation';

export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const UNFINISHED_STATUSES: JobStatus[] = ['queued', 'processing'];

/** Job name → payload, the one map both the queue and the processor read. */
export interface JobPayloadMap {
  generate: { jobId: string; userId: string; correlationId: string };
}
export type JobName = keyof JobPayloadMap;

export interface JobUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cost?: number;
}

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
  usage?: JobUsage;
  durationMs?: number;
  finishReason?: string;
}
