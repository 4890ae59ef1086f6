import { ADMIN_SESSION_COOKIE } from '@app/auth';
import { adminSessionCookie, adminSessionOf, clearedAdminSessionCookie } from './admin-session-cookie';

describe('admin session cookie', () => {
  it('is HttpOnly, SameSite=Strict, on /admin, for 15 minutes, and not Secure outside production', () => {
    const cookie = adminSessionCookie('a.b.c', { isProduction: false });

    expect(cookie).toMatch(new RegExp(`^${ADMIN_SESSION_COOKIE}=a\\.b\\.c; Path=/admin; Max-Age=900; Expires=[^;]+ GMT; HttpOnly; SameSite=Strict$`));
  });

  it('is Secure in production, and cleared with the same scope', () => {
    expect(adminSessionCookie('a.b.c', { isProduction: true })).toMatch(/; Secure$/);
    expect(clearedAdminSessionCookie({ isProduction: true })).toMatch(new RegExp(`^${ADMIN_SESSION_COOKIE}=; Path=/admin; Max-Age=0; .*; Secure$`));
  });

  it.each([
    [`${ADMIN_SESSION_COOKIE}=a.b.c`, 'a.b.c'],
    [`theme=dark; ${ADMIN_SESSION_COOKIE}=a.b.c; other=1`, 'a.b.c'],
    [`x${ADMIN_SESSION_COOKIE}=a.b.c`, undefined],
    [`${ADMIN_SESSION_COOKIE}=`, undefined],
    ['', undefined],
    [undefined, undefined],
  ])('reads the session from the Cookie header %p', (header, expected) => {
    expect(adminSessionOf(header)).toBe(expected);
  });
});
