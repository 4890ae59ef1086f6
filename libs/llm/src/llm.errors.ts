export type LlmErrorCode =
  | 'LLM_TIMEOUT'
  | 'LLM_NETWORK'
  | 'LLM_RATE_LIMITED'
  | 'LLM_SERVER_ERROR'
  | 'LLM_BAD_REQUEST'
  | 'LLM_AUTH'
  | 'LLM_PAYMENT_REQUIRED'
  | 'LLM_RESPONSE_ERROR'
  | 'LLM_EMPTY_RESPONSE'
  | 'LLM_OUTPUT_TOO_LARGE';

interface LlmErrorOptions {
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

const MAX_PROVIDER_MESSAGE = 200;

/**
 * A failed LLM call. `retryable` tells the worker whether another attempt may succeed, `retryAfterMs`
 * how long the provider asked to wait. Messages are short and never contain the API key or a whole body.
 */
export class LlmError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: LlmErrorCode,
    message: string,
    options: LlmErrorOptions,
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class LlmTimeoutError extends LlmError {
  constructor(message: string, status?: number) {
    super('LLM_TIMEOUT', message, { retryable: true, status });
  }
}

export class LlmNetworkError extends LlmError {
  constructor(message: string, cause?: unknown) {
    super('LLM_NETWORK', message, { retryable: true, cause });
  }
}

export class LlmRateLimitError extends LlmError {
  constructor(message: string, retryAfterMs?: number) {
    super('LLM_RATE_LIMITED', message, { retryable: true, status: 429, retryAfterMs });
  }
}

export class LlmServerError extends LlmError {
  constructor(message: string, status: number, retryAfterMs?: number) {
    super('LLM_SERVER_ERROR', message, { retryable: true, status, retryAfterMs });
  }
}

export class LlmBadRequestError extends LlmError {
  constructor(message: string, status = 400) {
    super('LLM_BAD_REQUEST', message, { retryable: false, status });
  }
}

export class LlmAuthError extends LlmError {
  constructor(message: string, status: 401 | 403) {
    super('LLM_AUTH', message, { retryable: false, status });
  }
}

/** Out of credits: final unless the provider says when to come back. */
export class LlmPaymentRequiredError extends LlmError {
  constructor(message: string, retryAfterMs?: number) {
    super('LLM_PAYMENT_REQUIRED', message, { retryable: retryAfterMs !== undefined, status: 402, retryAfterMs });
  }
}

/** A 2xx answer that is not a usable completion: an error object, an error event, broken JSON, a cut stream. */
export class LlmResponseError extends LlmError {
  constructor(message: string, cause?: unknown) {
    super('LLM_RESPONSE_ERROR', message, { retryable: true, cause });
  }
}

export class LlmEmptyResponseError extends LlmError {
  constructor(message = 'LLM returned no text') {
    super('LLM_EMPTY_RESPONSE', message, { retryable: true });
  }
}

/**
 * The answer went past LLM_MAX_OUTPUT_CHARS, or its body past the bytes such an answer can need (a runaway stream).
 * Final: the same prompt would most likely do it again, and each try costs the whole limit.
 */
export class LlmOutputTooLargeError extends LlmError {
  constructor(
    readonly maxChars: number,
    message = `LLM answer exceeded ${maxChars} characters`,
  ) {
    super('LLM_OUTPUT_TOO_LARGE', message, { retryable: false });
  }
}

/** Shortens a provider-supplied message so logs and job records never hold a whole provider body. */
export function truncateProviderMessage(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_PROVIDER_MESSAGE ? `${oneLine.slice(0, MAX_PROVIDER_MESSAGE - 1)}…` : oneLine;
}

/** Reads `Retry-After` as delay seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value?.trim()) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Maps a non-2xx HTTP status to the typed error the worker's retry policy reads. */
export function llmErrorFromStatus(status: number, providerMessage: string | undefined, retryAfterMs?: number): LlmError {
  const detail = providerMessage ? `: ${truncateProviderMessage(providerMessage)}` : '';
  const message = `LLM provider responded ${status}${detail}`;
  if (status === 401 || status === 403) return new LlmAuthError(message, status);
  if (status === 402) return new LlmPaymentRequiredError(message, retryAfterMs);
  if (status === 408) return new LlmTimeoutError(message, status);
  if (status === 429) return new LlmRateLimitError(message, retryAfterMs);
  if (status >= 500) return new LlmServerError(message, status, retryAfterMs);
  if (status >= 400) return new LlmBadRequestError(message, status);
  return new LlmResponseError(message);
}
