import { DomainError, invalidArgument } from '@app/common';
import { MAX_WEBHOOKS_PER_USER } from './webhook.types';

export function webhookNotFound(): DomainError {
  return new DomainError('NOT_FOUND', 'Webhook not found');
}

/** 409 with the limit, as for templates. */
export function webhookLimitReached(): DomainError {
  return new DomainError('WEBHOOK_LIMIT_REACHED', `You already have ${MAX_WEBHOOKS_PER_USER} webhooks; delete one first`, { limit: MAX_WEBHOOKS_PER_USER });
}

/** 429 with Retry-After (the API filter makes headers of the details): one test ping per interval per webhook. */
export function testPingLimited(waitMs: number, intervalMs: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new DomainError('RATE_LIMITED', `At most one test ping per ${intervalMs / 1000} s per webhook; try again in ${retryAfterSeconds} s`, {
    limit: 1,
    remaining: 0,
    resetSeconds: retryAfterSeconds,
    retryAfterSeconds,
  });
}

/** 400 naming `url`: the target is refused (form, scheme, or where it resolves). */
export function refusedUrl(problem: string): DomainError {
  return invalidArgument('url', problem);
}
