import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { redisConfig, RedisConfig } from '@app/config';
import { RedisConnection } from './redis.connection';

/** The shared request-path Redis connection (throttling, health, idempotency keys). */
@Global()
@Module({
  imports: [ConfigModule.forFeature(redisConfig)],
  providers: [
    {
      provide: RedisConnection,
      inject: [redisConfig.KEY],
      useFactory: (config: RedisConfig) => new RedisConnection(config.url, 'redis'),
    },
  ],
  exports: [RedisConnection],
})
export class RedisModule {}
