import { Logger } from '@nestjs/common';
import { checkConfiguration, ConfigValidationError, loadDotEnv } from '@app/config';
import { startTracing } from '@app/tracing';

async function bootstrap(): Promise<void> {
  loadDotEnv();
  checkConfiguration();
  // Before the app's modules load: tracing patches http, ioredis and mongodb as they are first required.
  startTracing('aicg-api');
  const { createApiApp } = await import('./create-app');
  const app = await createApiApp();
  const port = Number(process.env.PORT ?? 5000);
  await app.listen({ port, host: process.env.HOST ?? '0.0.0.0' });
  const url = `http://localhost:${(app.getHttpServer().address() as { port: number }).port}`;
  Logger.log(`API listening on ${url} (Swagger UI ${url}/docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`API failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
