import { metricsConfig } from './metrics.config';
import { ConfigValidationError } from './validate-env';

function load(env: Record<string, string | undefined>): ReturnType<typeof metricsConfig> {
  const saved = process.env;
  process.env = { ...env } as NodeJS.ProcessEnv;
  try {
    return metricsConfig();
  } finally {
    process.env = saved;
  }
}

describe('metricsConfig', () => {
  it('serves worker metrics on 9464 without a token by default', () => {
    expect(load({})).toEqual({ token: undefined, workerPort: 9464 });
    expect(load({ METRICS_TOKEN: '', WORKER_METRICS_PORT: '' })).toEqual({ token: undefined, workerPort: 9464 });
  });

  it('reads the token and the port; 0 turns the worker server off', () => {
    expect(load({ METRICS_TOKEN: ' s3cret ', WORKER_METRICS_PORT: '0' })).toEqual({ token: 's3cret', workerPort: 0 });
  });

  it.each(['abc', '-1', '65536', '9464.5'])('refuses WORKER_METRICS_PORT=%s with one line naming it', (value) => {
    expect(() => load({ WORKER_METRICS_PORT: value })).toThrow(
      new ConfigValidationError(`Invalid configuration: WORKER_METRICS_PORT must be an integer between 0 and 65535 (got "${value}")`),
    );
  });
});
