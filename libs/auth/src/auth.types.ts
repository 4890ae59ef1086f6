import type { UserRole } from './user.schema';

/** The caller of an authenticated request or socket, as the JWT strategy resolves it. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  /** The session of the token (`sid`); undefined for tokens issued before sessions existed. */
  sessionId?: string;
}

export interface JwtPayload {
  sub: string;
  iat?: number;
  exp?: number;
  /** `aicg-api` on access tokens (with `typ: at+jwt` in the header), the admin audience on admin session values; none on tokens issued before sessions. */
  aud?: string | string[];
  /** A claim on admin session values only. */
  typ?: string;
  /** The session of an access token. */
  sid?: string;
}

/** The audience of access tokens (RFC 8725 3.9): no other JWT of ours carries it. */
export const ACCESS_TOKEN_AUDIENCE = 'aicg-api';
/** The JOSE header `typ` of access tokens (RFC 9068): explicit typing, so no other kind of JWT passes as one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Pinned so a token signed with another algorithm (or "none") is never accepted. */
export const JWT_ALGORITHM = 'HS256';

/** Pages of GET /admin/users. */
export const USERS_DEFAULT_PAGE_SIZE = 50;
export const USERS_MAX_PAGE_SIZE = 100;
