import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are opaque random values, `rt.<userId>.<sessionId>.<secret>`: four dot-separated parts,
 * so no JWT parser takes one (a JWS has three), and the user and session are found without a lookup.
 * Only their SHA-256 is stored.
 */
const REFRESH_TOKEN = /^rt\.([0-9a-f]{24})\.([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/;
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

export interface RefreshTokenOwner {
  userId: string;
  sessionId: string;
}

/** 16 random bytes, base64url (22 characters): the session's `_id` and the access token's `sid`. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

export function newRefreshToken(owner: RefreshTokenOwner): string {
  return `rt.${owner.userId}.${owner.sessionId}.${randomBytes(32).toString('base64url')}`;
}

/** The user and session a refresh token names, or undefined when it is not one (a JWT, garbage). */
export function parseRefreshToken(value: unknown): RefreshTokenOwner | undefined {
  const match = typeof value === 'string' ? REFRESH_TOKEN.exec(value) : null;
  return match ? { userId: match[1], sessionId: match[2] } : undefined;
}

/** What is stored for a refresh token: its SHA-256 (the token has 256 random bits, so no salt or slow hash is needed). */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The tokens one refresh hands out; kept sealed for the grace window so a retried refresh gets the same ones. */
export interface TokenPair {
  token: string;
  refreshToken: string;
}

/**
 * AES-256-GCM with a key derived from JWT_SECRET (HKDF), so the pair kept in Redis for a retry is useless
 * to whoever reads Redis. Changing JWT_SECRET makes old sealed pairs unreadable (their retry gets 401).
 */
export class PairSealer {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.from('aicg'), Buffer.from('refresh-retry-pair'), 32));
  }

  seal(pair: TokenPair): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()]);
    return [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
  }

  /** The pair, or undefined when the text was not sealed with this key (tampered, or another secret). */
  open(text: string): TokenPair | undefined {
    try {
      const [iv, body, tag] = text.split('.').map((part) => Buffer.from(part, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      const pair = JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as TokenPair;
      return typeof pair.token === 'string' && typeof pair.refreshToken === 'string' ? pair : undefined;
    } catch {
      return undefined;
    }
  }
}
