import { isDependencyDown } from '@app/common';
import { LlmError } from '@app/llm';

/** Abort reasons the worker gives a delivery's signal. */
export const ABORT_SHUTDOWN = 'shutdown';
export const ABORT_LOCK_LOST = 'lock-lost';
/** The user cancelled the job (a signal through Redis to the worker holding it). */
export const ABORT_CANCELLED = 'cancelled';

/** A provider that keeps answering Retry-After eventually costs attempts, so a job cannot wait forever. */
export const MAX_PAUSES = 5;
const MAX_ERROR_LENGTH = 200;
const MIN_DEFER_MS = 1000;

/** What BullMQ should do with a delivery. */
export type Verdict =
  /** Finished, cancelled, or nothing left to do: let BullMQ complete it. */
  | { action: 'done' }
  /** Failed for good; the record already says so. */
  | { action: 'fail'; message: string }
  /** A provider failure that may pass: run again after `delayMs` (one of JOB_ATTEMPTS used). */
  | { action: 'retry'; delayMs: number; message: string }
  /** The provider asked to wait (Retry-After): hold the queue that long, no attempt used. */
  | { action: 'pause'; delayMs: number; message: string }
  /** MongoDB or Redis is unreachable: run again after `delayMs`, no attempt used. */
  | { action: 'defer'; delayMs: number; message: string }
  /** The worker is shutting down: give the job back at once, no attempt used. */
  | { action: 'hand-back' }
  /** Another delivery owns the job now: touch nothing. */
  | { action: 'release' };

export interface FailureState {
  /** Failed provider verdicts before this one. */
  failures: number;
  /** Retry-After pauses before this one. */
  pauses: number;
  /** When the outage blocking this job began (ms), for dependency errors. */
  blockedSince?: number;
  /** Why the delivery's signal was aborted, if it was. */
  abortReason?: unknown;
  now: number;
}

export interface FailureLimits {
  maxAttempts: number;
  backoffMs: number;
  outageMaxMs: number;
  outageBackoffMaxMs: number;
}

/** A short message that is safe to store and show: provider errors are already sanitised, others are not. */
export function safeErrorMessage(error: unknown): string {
  const message = error instanceof LlmError ? error.message : 'Content generation failed';
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}

export function isRetryable(error: unknown): boolean {
  // Anything that is not a typed provider refusal (a bug's exception included) may pass on retry.
  return !(error instanceof LlmError) || error.retryable;
}

/** The one failure policy: from the error and the job's counts, what happens next. */
export function decideFailure(error: unknown, state: FailureState, limits: FailureLimits): Verdict {
  if (state.abortReason === ABORT_SHUTDOWN) return { action: 'hand-back' };
  if (state.abortReason === ABORT_LOCK_LOST) return { action: 'release' };
  // The cancel already decided the outcome: no retry, whatever the aborted call threw.
  if (state.abortReason === ABORT_CANCELLED) return { action: 'done' };
  if (isDependencyDown(error)) return defer(state, limits);

  const message = safeErrorMessage(error);
  if (!isRetryable(error)) return { action: 'fail', message };
  const retryAfterMs = error instanceof LlmError ? (error.retryAfterMs ?? 0) : 0;
  if (retryAfterMs > 0 && state.pauses < MAX_PAUSES) return { action: 'pause', delayMs: retryAfterMs, message };
  if (state.failures + 1 >= limits.maxAttempts) return { action: 'fail', message };
  return { action: 'retry', delayMs: limits.backoffMs * 2 ** state.failures, message };
}

/** Waits about as long again as the outage has lasted (at least 1 s, at most the cap); past the bound, fails. */
function defer(state: FailureState, limits: FailureLimits): Verdict {
  const blockedFor = Math.max(0, state.now - (state.blockedSince ?? state.now));
  if (blockedFor >= limits.outageMaxMs) {
    return { action: 'fail', message: `Could not be processed: the database or Redis was unavailable for over ${formatDuration(limits.outageMaxMs)}` };
  }
  const delayMs = Math.min(limits.outageBackoffMaxMs, Math.max(MIN_DEFER_MS, blockedFor));
  return { action: 'defer', delayMs, message: 'A dependency (MongoDB or Redis) is unavailable' };
}

function formatDuration(ms: number): string {
  if (ms >= 3600_000 && ms % 3600_000 === 0) return `${ms / 3600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
