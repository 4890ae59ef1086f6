import { createHash } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis from 'ioredis';
import { RedisConnection, untaggedPrefix } from '@app/common';
import { authConfig, AuthConfig, redisConfig, RedisConfig } from '@app/config';

type ThrottledRequest = Record<string, any> & { ip?: string; body?: { email?: unknown }; user?: { id?: string } };

/** The account tried: the email of a login or register, the signed-in caller of a password change. */
const accountOf = (req: ThrottledRequest) =>
  typeof req.user?.id === 'string'
    ? `user:${req.user.id}`
    : typeof req.body?.email === 'string'
      ? `account:${req.body.email.trim().toLowerCase()}`
      : `ip:${req.ip}`;

/**
 * Login, register and password-change limits per IP and per account, counted in Redis so they hold across API
 * instances; checked before any bcrypt work.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ConfigModule.forFeature(authConfig), ConfigModule.forFeature(redisConfig)],
      inject: [authConfig.KEY, redisConfig.KEY, RedisConnection],
      useFactory: (auth: AuthConfig, redis: RedisConfig, connection: RedisConnection) => ({
        throttlers: [
          { name: 'ip', ttl: auth.throttle.ttlMs, limit: auth.throttle.perIp, getTracker: (req: ThrottledRequest) => `ip:${req.ip}` },
          { name: 'account', ttl: auth.throttle.ttlMs, limit: auth.throttle.perAccount, getTracker: accountOf },
        ],
        generateKey: (context, tracker, name) =>
          // The storage wraps the key in braces itself: without our prefix's own tag, counters spread over a cluster.
          `${untaggedPrefix(redis.prefix)}:throttle:${context.getHandler().name}:${name}:${createHash('sha256').update(tracker).digest('base64url')}`,
        // Typed for either kind in separate overloads; it takes a Cluster as well as a Redis.
        storage: new ThrottlerStorageRedisService(connection as Redis),
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class AuthThrottleModule {}
