import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from './api.module';
import { BODY_LIMIT_BYTES, configureApp } from './configure-app';

/** Builds the API on Fastify; main.ts listens on it, tests too (on port 0). */
export async function createApiApp(): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: process.env.TRUST_PROXY === 'true' }), {
    bufferLogs: true,
    abortOnError: false,
  });
  configureApp(app);
  return app;
}
