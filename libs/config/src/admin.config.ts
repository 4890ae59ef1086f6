import { registerAs } from '@nestjs/config';
import { isEmail, ValidateBy } from 'class-validator';
import { validateEnv } from './validate-env';

/** Entries of a comma-separated list, trimmed and lower-cased; empty entries are ignored. */
function emailList(value: string): string[] {
  return value
    .split(',')
    .map((email) => email.trim().toLowerCase())
    .filter((email) => email.length > 0);
}

const EmailList = () =>
  ValidateBy({
    name: 'emailList',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && emailList(value).every((email) => isEmail(email)),
      defaultMessage: () => 'ADMIN_EMAILS must be a comma-separated list of email addresses',
    },
  });

class AdminEnv {
  /** Accounts that are admins (role "admin") from their next register or login; case-insensitive. */
  @EmailList()
  ADMIN_EMAILS = '';
}

export const adminConfig = registerAs('admin', () => {
  const env = validateEnv(AdminEnv);
  return { adminEmails: emailList(env.ADMIN_EMAILS) };
});
export type AdminConfig = ReturnType<typeof adminConfig>;
