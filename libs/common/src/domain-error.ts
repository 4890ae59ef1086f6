/**
 * Errors thrown by lib services. They carry a stable code and no HTTP meaning: the API maps codes to
 * statuses in one filter, the worker reads `code` directly.
 */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export type DomainErrorCode =
  | 'EMAIL_TAKEN'
  | 'INVALID_CREDENTIALS'
  | 'UNAUTHENTICATED'
  | 'USER_INACTIVE'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'JOB_NOT_COMPLETED'
  | 'JOB_FINISHED'
  | 'JOB_NOT_FAILED'
  | 'CONTENT_NOT_FOUND'
  | 'TEMPLATE_NOT_FOUND'
  | 'TEMPLATE_READ_ONLY'
  | 'TEMPLATE_LIMIT_REACHED'
  | 'WEBHOOK_LIMIT_REACHED'
  | 'TOO_MANY_ACTIVE_JOBS'
  | 'RATE_LIMITED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'INVALID_ARGUMENT'
  | 'DEPENDENCY_UNAVAILABLE';
