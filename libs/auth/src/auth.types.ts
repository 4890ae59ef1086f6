import type { UserRole } from './user.schema';

/** The caller of an authenticated request or socket, as the JWT strategy resolves it. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
}

export interface JwtPayload {
  sub: string;
  iat?: number;
  exp?: number;
  /** Set on admin session values only (AdminSessionService); API tokens carry neither. */
  aud?: string | string[];
  typ?: string;
}

/** Pinned so a token signed with another algorithm (or "none") is never accepted. */
export const JWT_ALGORITHM = 'HS256';

/** Pages of GET /admin/users. */
export const USERS_DEFAULT_PAGE_SIZE = 50;
export const USERS_MAX_PAGE_SIZE = 100;
