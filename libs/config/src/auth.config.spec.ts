import { authConfig, durationSeconds } from './auth.config';
import { ConfigValidationError } from './validate-env';

function load(env: Record<string, string | undefined>) {
  const saved = process.env;
  process.env = { JWT_SECRET: 'test-secret-for-the-auth-config-spec', ...env } as NodeJS.ProcessEnv;
  try {
    return authConfig();
  } finally {
    process.env = saved;
  }
}

describe('auth configuration', () => {
  it('keeps access tokens 7 days and refresh tokens 30 days by default, with a 20 s retry grace', () => {
    expect(load({})).toMatchObject({ jwtExpiresIn: '7d', accessTtlSeconds: 7 * 86_400, refreshTtlSeconds: 30 * 86_400, refreshGraceMs: 20_000 });
  });

  it('reads durations in seconds or with a unit', () => {
    expect(load({ JWT_EXPIRES_IN: '900', JWT_REFRESH_EXPIRES_IN: '12h' })).toMatchObject({ jwtExpiresIn: 900, accessTtlSeconds: 900, refreshTtlSeconds: 43_200 });
    expect([durationSeconds('30s'), durationSeconds('15m'), durationSeconds('2d')]).toEqual([30, 900, 172_800]);
  });

  it('refuses a bad refresh lifetime or grace, naming the variable', () => {
    expect(() => load({ JWT_REFRESH_EXPIRES_IN: '30 days' })).toThrow(ConfigValidationError);
    expect(() => load({ JWT_REFRESH_EXPIRES_IN: '30 days' })).toThrow(/JWT_REFRESH_EXPIRES_IN/);
    expect(() => load({ AUTH_REFRESH_GRACE_MS: '-1' })).toThrow(/AUTH_REFRESH_GRACE_MS/);
  });

  it('refuses a refresh lifetime shorter than the access lifetime', () => {
    expect(() => load({ JWT_EXPIRES_IN: '7d', JWT_REFRESH_EXPIRES_IN: '1d' })).toThrow(/JWT_REFRESH_EXPIRES_IN must be at least JWT_EXPIRES_IN/);
    expect(load({ JWT_EXPIRES_IN: '1d', JWT_REFRESH_EXPIRES_IN: '1d' })).toMatchObject({ accessTtlSeconds: 86_400, refreshTtlSeconds: 86_400 });
  });

  it('polls revocations every 500 ms and sweeps unfinished deletions every 5 minutes by default', () => {
    expect(load({})).toMatchObject({ revocationPollMs: 500, accountDeletion: { sweepMs: 300_000, resumeAfterMs: 120_000 } });
    expect(() => load({ AUTH_REVOCATION_POLL_MS: '0' })).toThrow(/AUTH_REVOCATION_POLL_MS/);
  });
});
