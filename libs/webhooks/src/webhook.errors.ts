import { DomainError, invalidArgument } from '@app/common';
import { MAX_WEBHOOKS_PER_USER } from './webhook.types';

export function webhookNotFound(): DomainError {
  return new DomainError('NOT_FOUND', 'Webhook not found');
}

/** 409 with the limit, as for templates. */
export function webhookLimitReached(): DomainError {
  return new DomainError('WEBHOOK_LIMIT_REACHED', `You already have ${MAX_WEBHOOKS_PER_USER} webhooks; delete one first`, { limit: MAX_WEBHOOKS_PER_USER });
}

/** 400 naming `url`: the target is refused (form, scheme, or where it resolves). */
export function refusedUrl(problem: string): DomainError {
  return invalidArgument('url', problem);
}
