import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '@app/auth';
import { DatabaseModule, RedisModule } from '@app/common';
import { appConfig } from '@app/config';
import { AuthThrottleModule } from './auth/auth-throttle.module';
import { AuthController } from './auth/auth.controller';
import { HealthController } from './health/health.controller';
import { ApiLoggerModule } from './logger.module';

const controllers = [AuthController, HealthController];

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: process.env.NODE_ENV === 'test', cache: false }),
    ConfigModule.forFeature(appConfig),
    ApiLoggerModule,
    DatabaseModule,
    RedisModule,
    AuthModule,
    AuthThrottleModule,
  ],
  controllers,
})
export class ApiModule {}
