/** The caller of an authenticated request or socket, as the JWT strategy resolves it. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
}

export interface JwtPayload {
  sub: string;
  iat?: number;
  exp?: number;
}

/** Pinned so a token signed with another algorithm (or "none") is never accepted. */
export const JWT_ALGORITHM = 'HS256';
