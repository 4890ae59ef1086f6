import { appConfig } from './app.config';
import { authConfig } from './auth.config';
import { generationConfig } from './generation.config';
import { openRouterConfig } from './openrouter.config';
import { redisConfig } from './redis.config';
import { ConfigValidationError } from './validate-env';

/** Runs a registerAs factory against a given environment. */
function load<T>(factory: () => T, env: Record<string, string | undefined>): T {
  const saved = process.env;
  process.env = { ...env } as NodeJS.ProcessEnv;
  try {
    return factory();
  } finally {
    process.env = saved;
  }
}

describe('configuration', () => {
  it('applies defaults and treats empty values as unset', () => {
    expect(load(appConfig, { PORT: '' })).toMatchObject({ port: 5000, corsOrigins: ['http://localhost:3000'], nodeEnv: 'development' });
  });

  it('converts numbers and splits lists', () => {
    expect(load(appConfig, { PORT: '8080', CORS_ORIGINS: 'http://a.test, https://b.test' })).toMatchObject({
      port: 8080,
      corsOrigins: ['http://a.test', 'https://b.test'],
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer between 0 and 65535 (got "abc")'],
    [{ PORT: '70000' }, 'PORT must be an integer between 0 and 65535 (got "70000")'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be development, production or test (got "staging")'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY must be true or false (got "yes")'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => load(appConfig, env)).toThrow(new ConfigValidationError(`Invalid configuration: ${message}`));
  });

  it('builds a Redis URL from the old backend variables', () => {
    expect(load(redisConfig, { REDIS_ENDPOINT: 'cache.test', REDIS_PORT: '6380', REDIS_USER: 'default', REDIS_PASSWORD: 'p@ss' }).url).toBe(
      'redis://default:p%40ss@cache.test:6380',
    );
    expect(load(redisConfig, { REDIS_URL: 'rediss://u:p@host:6379', REDIS_ENDPOINT: 'ignored' }).url).toBe('rediss://u:p@host:6379');
    expect(load(redisConfig, {}).url).toBe('redis://127.0.0.1:6379');
  });

  it('reads Redis Cluster seed nodes and needs a hash tag in the prefix there', () => {
    expect(load(redisConfig, {}).clusterNodes).toBeUndefined();
    expect(load(redisConfig, { REDIS_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001' }).clusterNodes).toEqual([
      { host: 'redis-a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(() => load(redisConfig, { REDIS_CLUSTER_NODES: 'redis-a' })).toThrow(
      new ConfigValidationError('Invalid configuration: REDIS_CLUSTER_NODES must be a comma-separated list of host:port (got "redis-a")'),
    );
    expect(() => load(redisConfig, { REDIS_CLUSTER_NODES: 'redis-a:7000', REDIS_PREFIX: 'aicg' })).toThrow(/REDIS_PREFIX must hold a \{hash tag\}/);
  });

  it('reads the old OpenRouter variable names and picks the provider from the key', () => {
    expect(load(openRouterConfig, {})).toMatchObject({ provider: 'offline', baseUrl: 'https://openrouter.ai/api/v1' });
    expect(load(openRouterConfig, { OPENROUTER_KEY: 'sk-old', BASE_URL: 'http://localhost:11434/v1/' })).toMatchObject({
      provider: 'openrouter',
      apiKey: 'sk-old',
      baseUrl: 'http://localhost:11434/v1',
    });
  });

  it('requires a strong JWT secret in production only', () => {
    expect(() => load(authConfig, { NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
    expect(() => load(authConfig, { NODE_ENV: 'production', JWT_SECRET: 'changeme-changeme-changeme-changeme' })).toThrow(/at least 32 random bytes/);
    expect(() => load(authConfig, { NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/at least 32 random bytes/);
    const strong = 'q8Zr3LkP0vX2mN7tB5wY9cH4jF6gD1sA-e_TuIoQ';
    expect(load(authConfig, { NODE_ENV: 'production', JWT_SECRET: strong }).jwtSecret).toBe(strong);
  });

  it('reads the retention and how often its cleanup runs, 1 s at the least', () => {
    expect(load(generationConfig, {})).toMatchObject({ retentionMs: 30 * 24 * 3600_000, cleanupIntervalMs: 3600_000 });
    expect(load(generationConfig, { JOB_RETENTION_MS: '1000', CLEANUP_INTERVAL_MS: '1000' })).toMatchObject({ retentionMs: 1000, cleanupIntervalMs: 1000 });
    expect(() => load(generationConfig, { CLEANUP_INTERVAL_MS: '999' })).toThrow(/CLEANUP_INTERVAL_MS must be an integer between 1000 and/);
    expect(() => load(generationConfig, { JOB_RETENTION_MS: '30d' })).toThrow(/JOB_RETENTION_MS must be an integer between 1000 and .* \(got "30d"\)/);
  });
});
