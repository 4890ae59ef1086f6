import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '@app/config';

/** The same structured JSON logs as the API, without HTTP. */
export const WorkerLoggerModule = LoggerModule.forRootAsync({
  imports: [ConfigModule.forFeature(appConfig)],
  inject: [appConfig.KEY],
  useFactory: (config: AppConfig) => ({ pinoHttp: { level: config.logLevel, base: { service: 'worker' } } }),
});
