import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { redisConfig, RedisConfig } from '@app/config';
import { createRedisClient, firstConnection, RedisConnection } from './redis.connection';

/** The shared request-path Redis connection (throttling, health, slots, idempotency keys, the queue). */
@Global()
@Module({
  imports: [ConfigModule.forFeature(redisConfig)],
  providers: [
    {
      provide: RedisConnection,
      inject: [redisConfig.KEY],
      useFactory: (config: RedisConfig) => firstConnection(createRedisClient(config, 'redis')),
    },
  ],
  exports: [RedisConnection],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(RedisConnection) private readonly redis: RedisConnection) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
