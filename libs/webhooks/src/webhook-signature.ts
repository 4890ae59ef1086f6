import { createHash, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhookTarget } from './webhook.types';

/** A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks). */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The `webhook-id` of one event to one endpoint: stable, so every retry (and a re-emit) carries the same one. */
export function messageId(eventId: string, webhookId: string): string {
  return `msg_${createHash('sha256').update(`${eventId}\n${webhookId}`).digest('base64url').slice(0, 32)}`;
}

/** The secrets that sign now: the current one, and the previous one for 24 h after a rotation. */
export function signingSecrets(target: Pick<WebhookTarget, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>, now = new Date()): string[] {
  const previousValid = target.previousSecret && target.previousSecretExpiresAt && target.previousSecretExpiresAt.getTime() > now.getTime();
  return previousValid ? [target.secret, target.previousSecret!] : [target.secret];
}

/** The three Standard Webhooks headers; `webhook-signature` holds one `v1,<base64>` per secret, space-separated. */
export function signatureHeaders(msgId: string, body: string, secrets: string[], now = new Date()): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(msgId, now, body));
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
