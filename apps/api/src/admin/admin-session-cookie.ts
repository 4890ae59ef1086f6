import { ADMIN_SESSION_COOKIE, ADMIN_SESSION_TTL_SECONDS } from '@app/auth';

/**
 * The admin pages' session cookie, written and read by hand: one cookie with a JWT value (cookie-safe
 * characters) needs no library, and @fastify/cookie loads its parser by a dynamic import Jest cannot run.
 * Scoped to /admin, never sent cross-site nor readable by scripts; Secure where TLS is in front.
 */
export function adminSessionCookie(value: string, options: { isProduction: boolean }): string {
  return cookieText(value, ADMIN_SESSION_TTL_SECONDS, options.isProduction);
}

/** The Set-Cookie value that removes it. */
export function clearedAdminSessionCookie(options: { isProduction: boolean }): string {
  return cookieText('', 0, options.isProduction);
}

/** The session value in a Cookie header, if any. */
export function adminSessionOf(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === ADMIN_SESSION_COOKIE) return part.slice(separator + 1).trim() || undefined;
  }
  return undefined;
}

function cookieText(value: string, maxAgeSeconds: number, secure: boolean): string {
  const expires = new Date(Date.now() + maxAgeSeconds * 1000).toUTCString();
  return `${ADMIN_SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${maxAgeSeconds}; Expires=${expires}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
