import { registerAs } from '@nestjs/config';
import { IsIn } from 'class-validator';
import { ConfigValidationError, IntVar, validateEnv } from './validate-env';

class WebhooksEnv {
  @IntVar('WEBHOOK_MAX_ATTEMPTS', 1, 50) WEBHOOK_MAX_ATTEMPTS = 8;
  @IntVar('WEBHOOK_DISABLE_AFTER', 1, 10_000) WEBHOOK_DISABLE_AFTER = 20;
  @IntVar('WEBHOOK_TIMEOUT_MS', 100, 60_000) WEBHOOK_TIMEOUT_MS = 10_000;
  @IntVar('WEBHOOK_BACKOFF_MS', 1, 3_600_000) WEBHOOK_BACKOFF_MS = 1000;
  @IntVar('WEBHOOK_CONCURRENCY', 1, 1000) WEBHOOK_CONCURRENCY = 10;
  @IsIn(['true', 'false'], { message: 'WEBHOOK_ALLOW_PRIVATE must be true or false' })
  WEBHOOK_ALLOW_PRIVATE = 'false';
  NODE_ENV = 'development';
}

export const webhooksConfig = registerAs('webhooks', () => {
  const env = validateEnv(WebhooksEnv);
  const production = env.NODE_ENV === 'production';
  const allowPrivate = env.WEBHOOK_ALLOW_PRIVATE === 'true';
  if (allowPrivate && production) throw new ConfigValidationError('Invalid configuration: WEBHOOK_ALLOW_PRIVATE=true is refused when NODE_ENV=production');
  return {
    /** Attempts per delivery (the first one included). */
    maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
    /** Consecutive failed deliveries (each after all its attempts) that disable an endpoint. */
    disableAfter: env.WEBHOOK_DISABLE_AFTER,
    /** The whole request: connect, send, and the (capped) answer. */
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    /** Retry n waits backoffMs × 2^(n-1), or the endpoint's Retry-After. */
    backoffMs: env.WEBHOOK_BACKOFF_MS,
    concurrency: env.WEBHOOK_CONCURRENCY,
    /** Loopback, private and other internal targets allowed (development and tests only). */
    allowPrivate,
    /** Only https targets in production. */
    httpsOnly: production,
  };
});
export type WebhooksConfig = ReturnType<typeof webhooksConfig>;
