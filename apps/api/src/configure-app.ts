import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig, appConfig, RealtimeConfig, realtimeConfig } from '@app/config';
import { DomainErrorFilter } from './common/domain-error.filter';
import { observeRequestDurations } from './common/http-metrics';
import { acceptJsonBodiesOnly } from './common/json-body';
import { assignRequestIds } from './common/request-id';
import { addSecurityHeaders } from './common/security-headers';
import { createValidationPipe } from './common/validation.pipe';
import { SocketIoAdapter } from './realtime/socket-io.adapter';
import { QUEUE_BOARD_PATH, registerQueueBoard } from './admin/queue-board';

export const BODY_LIMIT_BYTES = 100 * 1024;
const DOCS_PATH = 'docs';

/** The HTTP surface on an app that createApiApp made with `bodyParser: false`: JSON is our only parser. */
export async function configureApp(app: NestFastifyApplication): Promise<void> {
  const config = app.get<AppConfig>(appConfig.KEY);
  assignRequestIds(app);
  observeRequestDurations(app);
  app.useLogger(app.get(Logger));
  acceptJsonBodiesOnly(app);
  await addSecurityHeaders(app, { isProduction: config.isProduction, docsPath: DOCS_PATH, boardPath: QUEUE_BOARD_PATH });
  await registerQueueBoard(app);
  app.enableCors({ origin: config.corsOrigins, credentials: true });
  app.useWebSocketAdapter(new SocketIoAdapter(app, { corsOrigins: config.corsOrigins, maxMessageBytes: app.get<RealtimeConfig>(realtimeConfig.KEY).maxMessageBytes }));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new DomainErrorFilter());
  app.enableShutdownHooks();
  if (config.swaggerEnabled) setupSwagger(app);
}

function setupSwagger(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('AI Content Generator API')
      .setDescription('Queue generation jobs, follow them in real time over Socket.IO, keep results in a content library.')
      .setVersion('1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json`, swaggerOptions: { persistAuthorization: true } });
}
