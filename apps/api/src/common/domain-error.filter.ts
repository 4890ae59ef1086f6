import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, DomainErrorCode, isDependencyDown } from '@app/common';

const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  EMAIL_TAKEN: HttpStatus.CONFLICT,
  INVALID_CREDENTIALS: HttpStatus.UNAUTHORIZED,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  USER_INACTIVE: HttpStatus.FORBIDDEN,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  CONTENT_NOT_FOUND: HttpStatus.NOT_FOUND,
  TEMPLATE_NOT_FOUND: HttpStatus.NOT_FOUND,
  TEMPLATE_READ_ONLY: HttpStatus.FORBIDDEN,
  TEMPLATE_LIMIT_REACHED: HttpStatus.CONFLICT,
  WEBHOOK_LIMIT_REACHED: HttpStatus.CONFLICT,
  JOB_NOT_COMPLETED: HttpStatus.CONFLICT,
  JOB_FINISHED: HttpStatus.CONFLICT,
  JOB_NOT_FAILED: HttpStatus.CONFLICT,
  TOO_MANY_ACTIVE_JOBS: HttpStatus.TOO_MANY_REQUESTS,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  IDEMPOTENCY_CONFLICT: HttpStatus.UNPROCESSABLE_ENTITY,
  IDEMPOTENCY_IN_PROGRESS: HttpStatus.CONFLICT,
  INVALID_ARGUMENT: HttpStatus.BAD_REQUEST,
  DEPENDENCY_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
};

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  [extra: string]: unknown;
}

/**
 * The one place where errors become HTTP answers: domain codes map to statuses, a dead dependency is
 * 503, and anything unexpected is a generic 500 with the details only in the log.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<{ status(code: number): { send(body: unknown): void }; header(name: string, value: string): void }>();
    const body = this.toBody(error);
    if (body.statusCode === HttpStatus.SERVICE_UNAVAILABLE) reply.header('Retry-After', '5');
    if (error instanceof DomainError && error.code === 'RATE_LIMITED') setRateLimitHeaders(reply, error.details);
    reply.status(body.statusCode).send(body);
  }

  toBody(error: unknown): ErrorBody {
    if (error instanceof DomainError) {
      const statusCode = STATUS_BY_CODE[error.code];
      return { statusCode, error: error.code, message: error.message, ...error.details };
    }
    if (error instanceof HttpException) return fromHttpException(error);
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own errors (body too large, malformed JSON) carry a safe message and status.
      return { statusCode: status, error: (error as { code?: string }).code ?? 'Bad Request', message: (error as Error).message };
    }
    if (isDependencyDown(error)) {
      this.logger.warn(`Dependency unavailable: ${(error as Error).message}`);
      return { statusCode: 503, error: 'Service Unavailable', message: 'A backing service is unavailable, try again shortly' };
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' };
  }
}

/** Retry-After and the IETF draft's RateLimit-Limit / -Remaining / -Reset (seconds) from a RATE_LIMITED error's details. */
function setRateLimitHeaders(reply: { header(name: string, value: string): void }, details: Record<string, unknown> = {}): void {
  const seconds = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? String(Math.max(0, Math.ceil(value))) : undefined);
  const headers: [string, string | undefined][] = [
    ['Retry-After', seconds(details.retryAfterSeconds)],
    ['RateLimit-Limit', seconds(details.limit)],
    ['RateLimit-Remaining', seconds(details.remaining)],
    ['RateLimit-Reset', seconds(details.resetSeconds)],
  ];
  for (const [name, value] of headers) if (value !== undefined) reply.header(name, value);
}

function fromHttpException(error: HttpException): ErrorBody {
  const statusCode = error.getStatus();
  const response = error.getResponse();
  const reason = HttpStatus[statusCode]?.replace(/_/g, ' ') ?? 'Error';
  if (typeof response === 'string') return { statusCode, error: reason, message: response };
  const { message, error: name, ...rest } = response as { message?: unknown; error?: string };
  const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error.message;
  return { ...rest, statusCode, error: name ?? reason, message: text };
}
