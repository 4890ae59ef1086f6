import { DomainError } from '@app/common';
import { assertPasswordAllowed, passwordProblem } from './password-policy';

describe('password policy', () => {
  it.each(['password', 'Password1', '12345678', 'QWERTY123', 'iloveyou'])('refuses the common password %s, whatever its case', (password) => {
    expect(passwordProblem(password, 'ada@example.com')).toMatch(/common/);
  });

  it.each(['ada.lovelace@example.com', 'ADA.LOVELACE@EXAMPLE.COM', 'ada.lovelace', 'my-ada.lovelace-2026', 'xx-ada.lovelace@example.com-xx'])(
    'refuses %s for ada.lovelace@example.com (the email or its local part)',
    (password) => {
      expect(passwordProblem(password, 'ada.lovelace@example.com')).toMatch(/email/);
    },
  );

  it('accepts a short local part inside a password (it would be in every other one) but not equal to it', () => {
    expect(passwordProblem('a-long-enough-password', 'a@example.com')).toBeUndefined();
    expect(passwordProblem('ZQX', 'zqx@example.com')).toMatch(/email/);
  });

  it.each(['correct horse', 'a-long-enough-password', 'password-1', 'Tr0ub4dor&3-but-longer'])('accepts %s', (password) => {
    expect(passwordProblem(password, 'ada@example.com')).toBeUndefined();
  });

  it('throws a 400 naming the field, with details', () => {
    let thrown: unknown;
    try {
      assertPasswordAllowed('password123', 'ada@example.com', 'newPassword');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'newPassword is one of the most common passwords; choose another',
      details: { details: [{ field: 'newPassword', errors: ['newPassword is one of the most common passwords; choose another'] }] },
    });
    expect(() => assertPasswordAllowed('correct horse', 'ada@example.com', 'password')).not.toThrow();
  });
});
