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
});
