import { adminConfig } from './admin.config';
import { ConfigValidationError } from './validate-env';

function load(env: Record<string, string | undefined>) {
  const saved = process.env;
  process.env = { ...env } as NodeJS.ProcessEnv;
  try {
    return adminConfig();
  } finally {
    process.env = saved;
  }
}

describe('admin configuration', () => {
  it('has no admins by default', () => {
    expect(load({}).adminEmails).toEqual([]);
  });

  it('reads ADMIN_EMAILS as a trimmed, lower-cased list', () => {
    expect(load({ ADMIN_EMAILS: ' Ada@Example.com, ops@example.com ,' }).adminEmails).toEqual(['ada@example.com', 'ops@example.com']);
  });

  it('refuses an entry that is not an email, naming the variable', () => {
    expect(() => load({ ADMIN_EMAILS: 'ada@example.com, not-an-email' })).toThrow(
      new ConfigValidationError('Invalid configuration: ADMIN_EMAILS must be a comma-separated list of email addresses (got "ada@example.com, not-an-email")'),
    );
  });
});
