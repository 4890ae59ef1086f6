import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DomainError } from '@app/common';
import { AuthService } from './auth.service';
import { AuthUser, JWT_ALGORITHM, JwtPayload } from './auth.types';

/** The cookie the admin pages (the queue board) read; only they accept it, never the REST API. */
export const ADMIN_SESSION_COOKIE = 'aicg_admin_session';
export const ADMIN_SESSION_TTL_SECONDS = 15 * 60;
/** Marks a session value apart from API tokens: AuthService.verifyToken refuses anything with an audience. */
export const ADMIN_SESSION_AUDIENCE = 'aicg:admin-session';
const ADMIN_SESSION_TYPE = 'admin-session';

/**
 * Short-lived signed values for the admin pages' cookie, so the long-lived bearer token never sits in
 * a cookie. Verifying one checks the user again through the user cache (active and admin, no database read).
 */
@Injectable()
export class AdminSessionService {
  constructor(
    private readonly jwt: JwtService,
    private readonly auth: AuthService,
  ) {}

  /**
   * A session value for an admin (the caller came through JwtAuthGuard and AdminGuard), bound to the caller's
   * session: ending that session (logout, logout-all, a password change) ends the admin pages' access too.
   */
  async issue(user: AuthUser): Promise<string> {
    if (user.role !== 'admin') throw new DomainError('FORBIDDEN', 'Admins only');
    const claims = { typ: ADMIN_SESSION_TYPE, ...(user.sessionId ? { sid: user.sessionId } : {}) };
    return this.jwt.signAsync(claims, { subject: user.id, audience: ADMIN_SESSION_AUDIENCE, expiresIn: ADMIN_SESSION_TTL_SECONDS });
  }

  /** The session's user when the value is valid and the user still active; UNAUTHENTICATED otherwise (the role is the caller's check). */
  async verify(value: string): Promise<AuthUser> {
    let payload: JwtPayload;
    try {
      payload = await this.jwt.verifyAsync<JwtPayload>(value, { algorithms: [JWT_ALGORITHM], audience: ADMIN_SESSION_AUDIENCE });
    } catch {
      throw new DomainError('UNAUTHENTICATED', 'Invalid or expired admin session');
    }
    if (payload.typ !== ADMIN_SESSION_TYPE || typeof payload.sub !== 'string') throw new DomainError('UNAUTHENTICATED', 'Invalid or expired admin session');
    const user = await this.auth.me(payload.sub);
    const caller: AuthUser = { id: user._id, email: user.email, name: user.name, role: user.role };
    const sessionId = typeof payload.sid === 'string' ? payload.sid : undefined;
    const issuedAt = typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : undefined;
    if (await this.auth.isRevoked({ ...caller, sessionId, issuedAt })) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired admin session');
    return caller;
  }
}
