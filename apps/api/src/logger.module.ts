import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '@app/config';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Structured JSON logs with a request id; secrets are redacted wherever they could appear. */
export const ApiLoggerModule = LoggerModule.forRootAsync({
  imports: [ConfigModule.forFeature(appConfig)],
  inject: [appConfig.KEY],
  useFactory: (config: AppConfig) => ({
    pinoHttp: {
      level: config.logLevel,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.body.password', '*.password', '*.passwordHash', '*.token'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.replace(/([?&]token=)[^&]*/, '$1[redacted]') }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
    },
  }),
});
