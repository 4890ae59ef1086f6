import { Logger as NestLogger } from '@nestjs/common';
import { checkConfiguration, ConfigValidationError, generationConfig, loadDotEnv } from '@app/config';
import { startTracing } from '@app/tracing';

/** Past the shutdown timeout, jobs get this long to be handed back and connections to close; then the process exits regardless. */
const EXIT_GRACE_MS = 900;

/** The worker has no HTTP server: a Nest application context running BullMQ processors. */
async function bootstrap(): Promise<void> {
  // Worker options are read when the processor is loaded, so .env must be in process.env before that.
  loadDotEnv();
  checkConfiguration();
  // Before the worker's modules load: tracing patches http, ioredis and mongodb as they are first required.
  startTracing('aicg-worker');
  // Nest's core loads http, so it comes after tracing too.
  const { NestFactory } = await import('@nestjs/core');
  const { Logger } = await import('nestjs-pino');
  const { WorkerModule } = await import('./worker.module');
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  // Our own signal handling (not enableShutdownHooks) so a drained worker exits 0 instead of re-raising the signal.
  const shutdown = (signal: string) => {
    NestLogger.log(`${signal}: draining`, 'Bootstrap');
    // A bounded shutdown even if a connection will not close: in-flight jobs were handed back or stall recovery takes them.
    setTimeout(() => {
      NestLogger.warn('Shutdown did not finish in time; exiting', 'Bootstrap');
      process.exit(0);
    }, generationConfig().shutdownTimeoutMs + EXIT_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        NestLogger.error(`Shutdown failed: ${error.message}`, 'Bootstrap');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  NestLogger.log('Worker started', 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
