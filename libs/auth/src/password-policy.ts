import { DomainError } from '@app/common';

/** The local part of an email is refused inside a password only from this length (a one-letter local part is in every password). */
const LOCAL_PART_MIN_LENGTH = 4;

let common: Set<string> | undefined;

/** ~49k of the most used passwords (@zxcvbn-ts/language-common), lower-cased, read once on first use. */
function commonPasswords(): Set<string> {
  if (!common) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dictionary } = require('@zxcvbn-ts/language-common') as { dictionary: Record<string, (string | number)[]> };
    common = new Set(dictionary['passwords-common'].map((entry) => String(entry).toLowerCase()));
  }
  return common;
}

/** Why a new password is refused, or undefined when it is acceptable. Length limits are the DTO's. */
export function passwordProblem(password: string, email: string): string | undefined {
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) return 'is one of the most common passwords; choose another';
  const address = email.trim().toLowerCase();
  const localPart = address.split('@')[0] ?? '';
  if (lower.includes(address) || lower === localPart || (localPart.length >= LOCAL_PART_MIN_LENGTH && lower.includes(localPart))) {
    return 'must not contain your email address';
  }
  return undefined;
}

/** Throws a 400 (INVALID_ARGUMENT) naming `field` when the password is common or contains the email. */
export function assertPasswordAllowed(password: string, email: string, field: 'password' | 'newPassword'): void {
  const problem = passwordProblem(password, email);
  if (!problem) return;
  const message = `${field} ${problem}`;
  throw new DomainError('INVALID_ARGUMENT', message, { details: [{ field, errors: [message] }] });
}
