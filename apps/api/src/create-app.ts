import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { appConfig } from '@app/config';
import { ApiModule } from './api.module';
import { requestIdOf } from './common/request-id';
import { BODY_LIMIT_BYTES, configureApp } from './configure-app';

/** Builds the API on Fastify; main.ts listens on it, tests too (on port 0). The adapter exists before Nest's config does, hence appConfig(). */
export async function createApiApp(): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: appConfig().trustProxy, genReqId: requestIdOf });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, adapter, {
    bufferLogs: true,
    abortOnError: false,
    // configureApp installs our one parser (JSON only, depth-limited); Nest's would add form bodies.
    bodyParser: false,
  });
  await configureApp(app);
  return app;
}
