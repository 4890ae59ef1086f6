import type { JobStatus } from '@app/common';

/** Announced once per job, when it is done for good (after the last attempt when it failed). Wire contract. */
export interface JobCompletedEvent {
  userId: string;
  jobId: string;
  status: Extract<JobStatus, 'completed' | 'failed'>;
  generatedContent?: string;
  error?: string;
  /** ISO-8601 */
  completedAt: string;
}

/**
 * The job's record changed status; `status` is the record's. `attempt` is the provider call it is about:
 * the one starting (`processing`), the one that failed before a retry (`queued`), the last one (done).
 */
export interface JobStatusEvent {
  jobId: string;
  status: JobStatus;
  attempt: number;
}

/**
 * A piece of streamed text; the texts of one attempt, in `seq` order from 0, concatenate to its output.
 * `delivery` grows with every hand-out of the job to a worker, so `(delivery, seq)` is never reused.
 */
export interface JobDeltaEvent {
  jobId: string;
  attempt: number;
  delivery: number;
  seq: number;
  text: string;
}

/** How many of a batch's jobs are in each state. */
export interface BatchCounts {
  queued: number;
  processing: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** A batch's jobs moved on (sent at most twice a second per batch, live only). */
export interface BatchProgressEvent {
  batchId: string;
  counts: BatchCounts;
}

/** Every job of the batch has ended (completed, failed or cancelled); announced once per batch. */
export interface BatchCompletedEvent {
  batchId: string;
  counts: BatchCounts;
}

/** A webhook endpoint was disabled after too many failed deliveries in a row; announced once per disable. */
export interface WebhookDisabledEvent {
  webhookId: string;
  url: string;
  reason: string;
}

/**
 * Socket.IO event name -> payload sent to the client. A changed payload gets a new event name.
 * Published with PubSubService.publish; emitted only by RealtimeGateway.clientSend (apps/api).
 */
export interface ClientEventMap {
  job_completed: JobCompletedEvent;
  job_status: JobStatusEvent;
  job_delta: JobDeltaEvent;
  batch_progress: BatchProgressEvent;
  batch_completed: BatchCompletedEvent;
  webhook_disabled: WebhookDisabledEvent;
}

export type ClientEventName = keyof ClientEventMap;

export const CLIENT_EVENT_NAMES: readonly ClientEventName[] = ['job_completed', 'job_status', 'job_delta', 'batch_progress', 'batch_completed', 'webhook_disabled'];

/** Events recorded in the user's notification log for replay; the others (text deltas, batch progress) are sent live only. */
export const RECORDED_EVENT_NAMES: readonly ClientEventName[] = ['job_completed', 'job_status', 'batch_completed', 'webhook_disabled'];

export function isClientEventName(value: unknown): value is ClientEventName {
  return typeof value === 'string' && (CLIENT_EVENT_NAMES as readonly string[]).includes(value);
}

export function isRecordedEvent(event: ClientEventName): boolean {
  return RECORDED_EVENT_NAMES.includes(event);
}

/** What travels on a pubsub channel from a publisher to every API instance. */
export interface PubSubEnvelope<E extends ClientEventName = ClientEventName> {
  /** Stream id of a recorded event (`<ms>-<seq>`, increasing per user); absent on ephemeral events (job_delta). */
  id?: string;
  event: E;
  userId: string;
  payload: ClientEventMap[E];
  correlationId?: string;
}

/** A notification: a recorded event as kept in the user's log, replayed to a socket or listed by GET /notifications. */
export interface StoredNotification<E extends ClientEventName = ClientEventName> {
  id: string;
  event: E;
  payload: ClientEventMap[E];
}

/** Second argument of every recorded event sent to a socket: the id to send back as `lastEventId`. */
export interface ClientEventMeta {
  id: string;
}
