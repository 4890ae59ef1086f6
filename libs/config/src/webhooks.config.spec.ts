import { webhooksConfig } from './webhooks.config';

describe('webhooksConfig', () => {
  const withEnv = (env: Record<string, string>, read: () => unknown) => {
    const previous = { ...process.env };
    Object.assign(process.env, env);
    try {
      return read();
    } finally {
      for (const key of Object.keys(env)) if (previous[key] === undefined) delete process.env[key];
      Object.assign(process.env, previous);
    }
  };

  it('has the documented defaults', () => {
    expect(withEnv({ NODE_ENV: 'development' }, () => webhooksConfig())).toEqual({ maxAttempts: 8, disableAfter: 20, timeoutMs: 10_000, backoffMs: 1000, concurrency: 10, allowPrivate: false, httpsOnly: false });
  });

  it('allows private targets outside production only, and wants https in production', () => {
    expect(withEnv({ NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE: 'true' }, () => webhooksConfig())).toMatchObject({ allowPrivate: true, httpsOnly: false });
    expect(() => withEnv({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'true' }, () => webhooksConfig())).toThrow('WEBHOOK_ALLOW_PRIVATE=true is refused when NODE_ENV=production');
    expect(withEnv({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'false' }, () => webhooksConfig())).toMatchObject({ allowPrivate: false, httpsOnly: true });
  });

  it('names a bad variable', () => {
    expect(() => withEnv({ WEBHOOK_MAX_ATTEMPTS: '0' }, () => webhooksConfig())).toThrow('WEBHOOK_MAX_ATTEMPTS must be an integer between 1 and 50 (got "0")');
    expect(() => withEnv({ WEBHOOK_ALLOW_PRIVATE: 'yes' }, () => webhooksConfig())).toThrow('WEBHOOK_ALLOW_PRIVATE must be true or false');
  });
});
