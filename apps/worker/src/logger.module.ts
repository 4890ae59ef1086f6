import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '@app/config';
import { traceLogFields, tracingEnabled } from '@app/tracing';

/** The same structured JSON logs as the API, without HTTP. */
export const WorkerLoggerModule = LoggerModule.forRootAsync({
  imports: [ConfigModule.forFeature(appConfig)],
  inject: [appConfig.KEY],
  useFactory: (config: AppConfig) => ({
    // With tracing on, each line written inside a trace (a job's) carries its traceId.
    pinoHttp: { level: config.logLevel, base: { service: 'worker' }, mixin: tracingEnabled() ? traceLogFields : undefined },
  }),
});
