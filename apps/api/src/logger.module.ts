import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '@app/config';
import { traceLogFields, tracingEnabled } from '@app/tracing';

/** Structured JSON logs with a request id; secrets are redacted wherever they could appear. */
export const ApiLoggerModule = LoggerModule.forRootAsync({
  imports: [ConfigModule.forFeature(appConfig)],
  inject: [appConfig.KEY],
  useFactory: (config: AppConfig) => ({
    pinoHttp: {
      level: config.logLevel,
      // With tracing on, each line written inside a trace carries its traceId.
      mixin: tracingEnabled() ? traceLogFields : undefined,
      // The id common/request-id.ts gave the request (and its response header).
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? randomUUID(),
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.body.password', '*.password', '*.passwordHash', '*.token'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.replace(/([?&]token=)[^&]*/, '$1[redacted]') }),
      },
      // Probes and scrapes every few seconds would drown the log.
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics' },
    },
  }),
});
