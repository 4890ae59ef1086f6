import { WebhookResponse } from './webhook.client';

/** What one attempt's answer means: delivered, worth another attempt, or a failed delivery now. */
export type AttemptVerdict = { kind: 'delivered' } | { kind: 'retryable'; reason: string } | { kind: 'permanent'; reason: string };

/**
 * 2xx delivered; a timeout, a connection error, 408, 429 and 5xx may pass later; anything else (a redirect,
 * which is not followed, another 4xx, a target refused at connect time) fails the delivery at once.
 */
export function judgeAttempt(response: WebhookResponse): AttemptVerdict {
  const status = response.statusCode;
  if (status !== undefined && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === undefined) {
    const reason = response.error ?? 'no answer';
    return response.failure === 'refused' ? { kind: 'permanent', reason } : { kind: 'retryable', reason };
  }
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retryable', reason: `HTTP ${status}` };
  if (status >= 300 && status < 400) return { kind: 'permanent', reason: `HTTP ${status} (redirects are not followed)` };
  return { kind: 'permanent', reason: `HTTP ${status}` };
}

/** Longest wait between two attempts, however many came before. */
export const MAX_BACKOFF_MS = 6 * 3_600_000;

/**
 * The wait before attempt `failedAttempt + 1`: `baseMs` × 2^(failedAttempt-1) (1, 2, 4, 8... × base), or the
 * endpoint's Retry-After when that is longer (a `Retry-After: 0` must not make retries immediate), at most MAX_BACKOFF_MS.
 */
export function retryDelayMs(failedAttempt: number, baseMs: number, retryAfterMs?: number): number {
  const backoff = baseMs * 2 ** Math.max(failedAttempt - 1, 0);
  return Math.min(Math.max(retryAfterMs ?? 0, backoff), MAX_BACKOFF_MS);
}

/** Thrown by the worker after an attempt worth repeating: BullMQ retries after `delayMs` (see webhookBackoff). */
export class RetryDeliveryError extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryDeliveryError';
  }
}

/** Without a verdict (an unexpected error, a database outage), retries wait this × 2^(n-1). */
const FALLBACK_BACKOFF_MS = 1000;

/**
 * BullMQ's custom backoff strategy for delivery jobs (backoff type `webhook`): the wait the failed attempt
 * chose (exponential, or the endpoint's Retry-After), carried by its RetryDeliveryError.
 */
export function webhookBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  if (error instanceof RetryDeliveryError) return error.delayMs;
  return retryDelayMs(attemptsMade, FALLBACK_BACKOFF_MS);
}
