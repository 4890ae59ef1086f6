import { WorkerOptions } from 'bullmq';
import { generationConfig } from '@app/config';

/**
 * BullMQ worker options from the validated config. @nestjs/bullmq takes them only through the
 * @Processor decorator, so they are read when the processor module is loaded (main.ts loads .env first).
 */
export function generationWorkerOptions(): Partial<WorkerOptions> {
  const config = generationConfig();
  return {
    concurrency: config.concurrency,
    // BullMQ's manual rate limit (a provider's Retry-After) needs a limiter; "off" is a limit no one reaches.
    limiter: config.rateLimit ?? { max: Number.MAX_SAFE_INTEGER, duration: 1000 },
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
  };
}
