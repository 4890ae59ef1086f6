import { existsSync } from 'node:fs';
import { adminConfig } from './admin.config';
import { appConfig } from './app.config';
import { authConfig } from './auth.config';
import { generationConfig } from './generation.config';
import { metricsConfig } from './metrics.config';
import { mongoConfig } from './mongo.config';
import { openRouterConfig } from './openrouter.config';
import { realtimeConfig } from './realtime.config';
import { redisConfig } from './redis.config';
import { webhooksConfig } from './webhooks.config';

/**
 * Validates every config concern before Nest starts, so a bad value ends start-up with its one-line
 * ConfigValidationError rather than a stack trace from the injector.
 */
export function checkConfiguration(): void {
  for (const load of [appConfig, mongoConfig, redisConfig, authConfig, generationConfig, openRouterConfig, realtimeConfig, adminConfig, metricsConfig, webhooksConfig]) load();
}

/** Loads ./.env into process.env (variables already set win), as ConfigModule would, but before anything reads it. */
export function loadDotEnv(): void {
  if (process.env.NODE_ENV !== 'test' && existsSync('.env')) process.loadEnvFile('.env');
}
