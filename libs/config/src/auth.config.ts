import { registerAs } from '@nestjs/config';
import { IsOptional, IsString, Matches } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigValidationError, IntVar, validateEnv } from './validate-env';

class AuthEnv {
  @IsOptional()
  @IsString()
  JWT_SECRET?: string = undefined;

  @Matches(/^\d+[smhd]?$/, { message: 'JWT_EXPIRES_IN must be a number of seconds or a duration like 15m, 12h, 7d' })
  JWT_EXPIRES_IN = '7d';

  /** How long a refresh token stays usable without being used (each refresh starts it again). */
  @Matches(/^\d+[smhd]?$/, { message: 'JWT_REFRESH_EXPIRES_IN must be a number of seconds or a duration like 12h, 30d' })
  JWT_REFRESH_EXPIRES_IN = '30d';

  /** How long a refresh token just rotated may be presented again and get the same new pair (a client's retry). */
  @IntVar('AUTH_REFRESH_GRACE_MS', 0, 300_000)
  AUTH_REFRESH_GRACE_MS = 20_000;

  @IntVar('BCRYPT_ROUNDS', 4, 15)
  BCRYPT_ROUNDS = 10;

  @IntVar('AUTH_THROTTLE_IP_LIMIT', 1)
  AUTH_THROTTLE_IP_LIMIT = 20;

  @IntVar('AUTH_THROTTLE_ACCOUNT_LIMIT', 1)
  AUTH_THROTTLE_ACCOUNT_LIMIT = 5;

  @IntVar('AUTH_THROTTLE_TTL_MS', 1000)
  AUTH_THROTTLE_TTL_MS = 60_000;

  /** How long an authenticated user is remembered without a database read (0 = always read). */
  @IntVar('AUTH_USER_CACHE_TTL_MS', 0)
  AUTH_USER_CACHE_TTL_MS = 60_000;

  @IntVar('AUTH_USER_CACHE_MAX', 1)
  AUTH_USER_CACHE_MAX = 100_000;

  /** How often each API instance reads new revocations from Redis, besides hearing them on the channel. */
  @IntVar('AUTH_REVOCATION_POLL_MS', 50, 10_000)
  AUTH_REVOCATION_POLL_MS = 500;

  /** How often one API instance looks for account deletions nobody finished. */
  @IntVar('ACCOUNT_DELETION_SWEEP_MS', 100)
  ACCOUNT_DELETION_SWEEP_MS = 300_000;

  /** A deletion begun this long ago and not finished is finished by the sweep. */
  @IntVar('ACCOUNT_DELETION_RESUME_AFTER_MS', 0)
  ACCOUNT_DELETION_RESUME_AFTER_MS = 120_000;

  @IsString()
  NODE_ENV = 'development';

  @IsString()
  DATA_DIR = '.data';
}

const PLACEHOLDER = /change|secret|example|placeholder|your|default|password|xxx/i;

function productionSecret(secret: string | undefined): string {
  if (!secret) throw new ConfigValidationError('Invalid configuration: JWT_SECRET is required when NODE_ENV=production (it is not set)');
  if (Buffer.byteLength(secret) < 32 || PLACEHOLDER.test(secret) || new Set(secret).size < 16) {
    throw new ConfigValidationError(
      'Invalid configuration: JWT_SECRET must be at least 32 random bytes in production, not a placeholder (try: openssl rand -base64 48)',
    );
  }
  return secret;
}

/** Outside production a random secret is kept in the data folder, so tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const secret = randomBytes(48).toString('base64');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `900`, `15m`, `12h`, `7d` as seconds (the format JWT_EXPIRES_IN has always accepted). */
export function durationSeconds(value: string): number {
  const [, amount, unit] = /^(\d+)([smhd]?)$/.exec(value)!;
  return Number(amount) * SECONDS_PER_UNIT[unit || 's'];
}

export const authConfig = registerAs('auth', () => {
  const env = validateEnv(AuthEnv);
  const accessTtlSeconds = durationSeconds(env.JWT_EXPIRES_IN);
  const refreshTtlSeconds = durationSeconds(env.JWT_REFRESH_EXPIRES_IN);
  // A session would end before its first access token does, and refresh could never extend it.
  if (refreshTtlSeconds < accessTtlSeconds) {
    throw new ConfigValidationError(
      `Invalid configuration: JWT_REFRESH_EXPIRES_IN must be at least JWT_EXPIRES_IN (got "${env.JWT_REFRESH_EXPIRES_IN}" < "${env.JWT_EXPIRES_IN}")`,
    );
  }
  const jwtSecret = env.NODE_ENV === 'production' ? productionSecret(env.JWT_SECRET) : (env.JWT_SECRET ?? developmentSecret(env.DATA_DIR));
  return {
    jwtSecret,
    jwtExpiresIn: /^\d+$/.test(env.JWT_EXPIRES_IN) ? Number(env.JWT_EXPIRES_IN) : env.JWT_EXPIRES_IN,
    /** The access token's lifetime (`expiresIn` of register, login and refresh). */
    accessTtlSeconds,
    refreshTtlSeconds,
    refreshGraceMs: env.AUTH_REFRESH_GRACE_MS,
    bcryptRounds: env.BCRYPT_ROUNDS,
    userCache: { ttlMs: env.AUTH_USER_CACHE_TTL_MS, max: env.AUTH_USER_CACHE_MAX },
    revocationPollMs: env.AUTH_REVOCATION_POLL_MS,
    accountDeletion: { sweepMs: env.ACCOUNT_DELETION_SWEEP_MS, resumeAfterMs: env.ACCOUNT_DELETION_RESUME_AFTER_MS },
    throttle: {
      ttlMs: env.AUTH_THROTTLE_TTL_MS,
      perIp: env.AUTH_THROTTLE_IP_LIMIT,
      perAccount: env.AUTH_THROTTLE_ACCOUNT_LIMIT,
    },
  };
});
export type AuthConfig = ReturnType<typeof authConfig>;
