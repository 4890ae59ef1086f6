import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig, appConfig, RealtimeConfig, realtimeConfig } from '@app/config';
import { DomainErrorFilter } from './common/domain-error.filter';
import { assignRequestIds } from './common/request-id';
import { createValidationPipe } from './common/validation.pipe';
import { SocketIoAdapter } from './realtime/socket-io.adapter';

export const BODY_LIMIT_BYTES = 100 * 1024;

/** Everything main.ts and the tests both need on an application: one definition of the HTTP surface. */
export function configureApp(app: NestFastifyApplication): AppConfig {
  const config = app.get<AppConfig>(appConfig.KEY);
  assignRequestIds(app);
  app.useLogger(app.get(Logger));
  app.enableCors({ origin: config.corsOrigins, credentials: true });
  app.useWebSocketAdapter(new SocketIoAdapter(app, { corsOrigins: config.corsOrigins, maxMessageBytes: app.get<RealtimeConfig>(realtimeConfig.KEY).maxMessageBytes }));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new DomainErrorFilter());
  app.enableShutdownHooks();
  setupSwagger(app);
  return config;
}

function setupSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('AI Content Generator API')
      .setDescription('Queue generation jobs, follow them in real time over Socket.IO, keep results in a content library.')
      .setVersion('1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', swaggerOptions: { persistAuthorization: true } });
}
