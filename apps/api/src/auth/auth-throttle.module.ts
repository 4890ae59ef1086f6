import { createHash } from 'node:crypto';
import { ExecutionContext, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis from 'ioredis';
import { RedisConnection, untaggedPrefix } from '@app/common';
import { authConfig, AuthConfig, redisConfig, RedisConfig } from '@app/config';

type ThrottledRequest = Record<string, any> & { ip?: string; body?: { email?: unknown }; user?: { email?: string } };

/**
 * The credential tried, whichever route checks it: the email of a login, the signed-in caller's of a password
 * change or an account deletion. One counter per account, so each route does not add its own budget.
 */
const credentialOf = (req: ThrottledRequest, context: ExecutionContext): string | undefined => {
  const email = typeof req.user?.email === 'string' ? req.user.email : typeof req.body?.email === 'string' ? req.body.email : undefined;
  if (email === undefined) return undefined;
  // Register checks no password: its own counter per email, so signing up spends nothing of a login's budget.
  const kind = context.getHandler().name === 'register' ? 'register' : 'credential';
  return `${kind}:${email.trim().toLowerCase()}`;
};

/**
 * Limits per IP and per account on every route that checks a password (login, register, password change, account
 * deletion; refresh per IP only), counted in Redis so they hold across API instances, shared by those routes (the
 * key names no handler; register keeps its own per email), and checked before any bcrypt work.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ConfigModule.forFeature(authConfig), ConfigModule.forFeature(redisConfig)],
      inject: [authConfig.KEY, redisConfig.KEY, RedisConnection],
      useFactory: (auth: AuthConfig, redis: RedisConfig, connection: RedisConnection) => ({
        throttlers: [
          { name: 'ip', ttl: auth.throttle.ttlMs, limit: auth.throttle.perIp, getTracker: (req: ThrottledRequest) => `ip:${req.ip}` },
          {
            name: 'account',
            ttl: auth.throttle.ttlMs,
            limit: auth.throttle.perAccount,
            getTracker: (req: ThrottledRequest, context: ExecutionContext) => credentialOf(req, context)!,
            // No credential in the request (refresh): the IP limit alone applies.
            skipIf: (context) => credentialOf(context.switchToHttp().getRequest<ThrottledRequest>(), context) === undefined,
          },
        ],
        generateKey: (_context, tracker, name) =>
          // The storage wraps the key in braces itself: without our prefix's own tag, counters spread over a cluster.
          `${untaggedPrefix(redis.prefix)}:throttle:${name}:${createHash('sha256').update(tracker).digest('base64url')}`,
        // Typed for either kind in separate overloads; it takes a Cluster as well as a Redis.
        storage: new ThrottlerStorageRedisService(connection as Redis),
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class AuthThrottleModule {}
