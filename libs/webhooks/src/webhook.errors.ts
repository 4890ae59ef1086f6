import { DomainError, invalidArgument } from '@app/common';
import { MAX_WEBHOOKS_PER_USER } from './webhook.types';

export function webhookNotFound(): DomainError {
  return new DomainError('NOT_FOUND', 'Webhook not found');
}

/** 400 (INVALID_ARGUMENT, as the shared error codes have no webhook-specific one) with the limit. */
export function webhookLimitReached(): DomainError {
  return new DomainError('INVALID_ARGUMENT', `You already have ${MAX_WEBHOOKS_PER_USER} webhooks; delete one first`, { limit: MAX_WEBHOOKS_PER_USER });
}

/** 400 naming `url`: the target is refused (form, scheme, or where it resolves). */
export function refusedUrl(problem: string): DomainError {
  return invalidArgument('url', problem);
}
