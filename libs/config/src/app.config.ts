import { registerAs } from '@nestjs/config';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { IntVar, validateEnv } from './validate-env';

class AppEnv {
  @IsIn(['development', 'production', 'test'], { message: 'NODE_ENV must be development, production or test' })
  NODE_ENV = 'development';

  @IntVar('PORT', 0, 65535)
  PORT = 5000;

  @Matches(/^(\*|https?:\/\/[^,\s]+(,\s*https?:\/\/[^,\s]+)*)$/, {
    message: 'CORS_ORIGINS must be "*" or a comma-separated list of http(s) origins',
  })
  CORS_ORIGINS = 'http://localhost:3000';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
  })
  LOG_LEVEL = 'info';

  @IsString()
  DATA_DIR = '.data';

  @IsIn(['true', 'false'], { message: 'TRUST_PROXY must be true or false' })
  TRUST_PROXY = 'false';

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'SWAGGER_ENABLED must be true or false' })
  SWAGGER_ENABLED?: string = undefined;
}

export const appConfig = registerAs('app', () => {
  const env = validateEnv(AppEnv);
  return {
    nodeEnv: env.NODE_ENV as 'development' | 'production' | 'test',
    isProduction: env.NODE_ENV === 'production',
    port: env.PORT,
    corsOrigins: env.CORS_ORIGINS === '*' ? true : env.CORS_ORIGINS.split(',').map((origin) => origin.trim()),
    logLevel: env.LOG_LEVEL,
    dataDir: env.DATA_DIR,
    /** Behind a reverse proxy: client IPs (throttling, logs) come from X-Forwarded-For. */
    trustProxy: env.TRUST_PROXY === 'true',
    /** Swagger UI at /docs and the OpenAPI document at /docs-json; off in production unless asked for. */
    swaggerEnabled: env.SWAGGER_ENABLED === undefined ? env.NODE_ENV !== 'production' : env.SWAGGER_ENABLED === 'true',
  };
});
export type AppConfig = ReturnType<typeof appConfig>;
