import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { decodePageCursor, DomainError, encodePageCursor, OBJECT_ID_TEXT, PagePosition } from '@app/common';
import { adminConfig, AdminConfig, authConfig, AuthConfig } from '@app/config';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_TYPE, AuthUser, JWT_ALGORITHM, JwtPayload, USERS_DEFAULT_PAGE_SIZE } from './auth.types';
import { PasswordHasher } from './password';
import { assertPasswordAllowed } from './password-policy';
import { isSessionId, parseRefreshToken } from './refresh-token';
import { CLOCK_SKEW_MS, SessionRevocations, TokenIdentity } from './session-revocations.service';
import { ClientInfo, IssuedTokens, SessionsService, SessionView } from './sessions.service';
import { UserCache, UserChange } from './user-cache.service';
import { UserRecord, UserRepository } from './user.repository';
import { UserRole } from './user.schema';

export interface UserPage {
  users: UserRecord[];
  /** Set when there are more users after this page. */
  nextCursor?: string;
}

export interface AuthResult extends IssuedTokens {
  _id: string;
  name: string;
  email: string;
}

/** A verified access token's caller, with what sockets need to end it later. */
export type VerifiedToken = AuthUser & { expiresAt?: Date; issuedAt?: Date };

const invalidToken = () => new DomainError('UNAUTHENTICATED', 'Invalid or expired token');

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly cache: UserCache,
    @Inject(adminConfig.KEY) private readonly admins: AdminConfig,
    private readonly sessions: SessionsService,
    private readonly revocations: SessionRevocations,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {}

  async register(input: { name: string; email: string; password: string }, client: ClientInfo = {}): Promise<AuthResult> {
    assertPasswordAllowed(input.password, input.email, 'password');
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.users.create({ name: input.name, email: input.email, passwordHash, role: this.roleFor(input.email) });
    if (!user) throw new DomainError('EMAIL_TAKEN', 'A user with this email already exists');
    return this.issue(user, client);
  }

  async login(input: { email: string; password: string }, client: ClientInfo = {}): Promise<AuthResult> {
    const user = await this.users.findByEmailWithHash(input.email);
    const valid = await this.passwords.verify(input.password, user?.passwordHash);
    if (!user || !valid) throw new DomainError('INVALID_CREDENTIALS', 'Invalid credentials');
    if (user.status !== 'active') throw new DomainError('USER_INACTIVE', 'This account is inactive');
    await this.syncRole(user);
    return this.issue(user, client);
  }

  /**
   * A new token pair for a refresh token of an active user (see SessionsService.refresh). Redis first: a made-up
   * token is refused without a database read; the user is checked after, and an inactive one's session ends.
   */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const owner = parseRefreshToken(refreshToken);
    if (!owner) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired refresh token');
    const issued = await this.sessions.refresh(refreshToken);
    if (!(await this.activeUser(owner.userId))) {
      await this.sessions.logout(owner.userId, owner.sessionId);
      throw new DomainError('UNAUTHENTICATED', 'Invalid or expired refresh token');
    }
    return issued;
  }

  /** Ends the caller's session on every instance: its access and refresh tokens, and its sockets. */
  logout(caller: AuthUser): Promise<void> {
    return this.sessions.logout(caller.id, caller.sessionId);
  }

  /** Ends every session of the caller, and tokens issued before sessions existed. */
  logoutAll(caller: AuthUser): Promise<void> {
    return this.sessions.endAll(caller.id, { voidEarlierTokens: true });
  }

  listSessions(caller: AuthUser): Promise<SessionView[]> {
    return this.sessions.list(caller.id, caller.sessionId);
  }

  endSession(caller: AuthUser, sessionId: string): Promise<void> {
    return this.sessions.end(caller.id, sessionId);
  }

  /** Renames the caller; every instance forgets the cached user. */
  async changeName(userId: string, name: string): Promise<UserRecord> {
    const user = await this.users.rename(userId, name);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'User not found');
    await this.cache.invalidate(userId);
    return user;
  }

  /** Needs the current password; ends the caller's other sessions (and tokens without a session), keeps the caller's. */
  async changePassword(caller: AuthUser, input: { currentPassword: string; newPassword: string }): Promise<void> {
    const user = await this.users.findByIdWithHash(caller.id);
    if (!user || !(await this.passwords.verify(input.currentPassword, user.passwordHash))) {
      throw new DomainError('FORBIDDEN', 'currentPassword is incorrect');
    }
    assertPasswordAllowed(input.newPassword, user.email, 'newPassword');
    if (input.newPassword === input.currentPassword) {
      const message = 'newPassword must differ from currentPassword';
      throw new DomainError('INVALID_ARGUMENT', message, { details: [{ field: 'newPassword', errors: [message] }] });
    }
    await this.users.setPasswordHash(caller.id, await this.passwords.hash(input.newPassword));
    await this.endOtherSessions(caller);
  }

  /**
   * The first step of deleting the caller's account: checks the password (FORBIDDEN when wrong), then marks the
   * account deleting and inactive, so every instance refuses its tokens and sockets at once, and ends every other
   * session. The caller's own session stays, so an interrupted deletion can be repeated with the same token
   * (only DELETE /auth/me accepts it: `verifyToken(token, { allowDeleting: true })`); the password is checked
   * again on a repeat, against the hash kept until the very end. A deletion nobody repeats is finished by the
   * API's sweep (`accountsLeftDeleting`).
   */
  async beginAccountDeletion(caller: AuthUser, password: string): Promise<void> {
    const user = await this.users.findByIdWithHash(caller.id);
    if (!user || !(await this.passwords.verify(password, user.passwordHash))) throw new DomainError('FORBIDDEN', 'password is incorrect');
    if (!(await this.users.markDeleting(caller.id, new Date()))) throw new DomainError('UNAUTHENTICATED', 'User not found');
    await this.cache.invalidate(caller.id);
    // No tokensValidAfter: the account is inactive, so no token of it passes anywhere but this route's repeat
    // (a caller without a session must keep that too).
    await this.sessions.endAll(caller.id, { keep: caller.sessionId, voidEarlierTokens: false });
  }

  /**
   * The last step of an account's deletion, after all its data went: the session records, the user record, then
   * every session (the caller's too) is revoked on every instance. Revoked session ids stay in Redis one
   * access-token lifetime, as for any logout (ids only); no tokensValidAfter: with the user gone, every token
   * of theirs is refused anyway.
   */
  async finishAccountDeletion(userId: string): Promise<void> {
    await this.sessions.deleteRecordsOf(userId);
    await this.users.delete(userId);
    await this.sessions.endAll(userId, { voidEarlierTokens: false });
    await this.cache.invalidate(userId);
  }

  /** Query: ids of accounts whose deletion began before `before` and was never finished, oldest first. */
  accountsLeftDeleting(before: Date, limit: number): Promise<string[]> {
    return this.users.findDeletingBefore(before, limit);
  }

  async me(userId: string): Promise<UserRecord> {
    const user = await this.activeUser(userId);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'User not found');
    return user;
  }

  /** Activates or deactivates an account; every API instance refuses a deactivated user's tokens at once. */
  async setStatus(userId: string, status: UserRecord['status']): Promise<void> {
    if (!(await this.users.setStatus(userId, status))) throw new DomainError('NOT_FOUND', 'User not found');
    await this.cache.invalidate(userId);
  }

  /** Query: every user, newest first, `search` matched in name and email; never password hashes. */
  async listUsers(options: { search?: string; limit?: number; cursor?: string } = {}): Promise<UserPage> {
    const limit = options.limit ?? USERS_DEFAULT_PAGE_SIZE;
    const after = options.cursor === undefined ? undefined : decodePageCursor(options.cursor, OBJECT_ID_TEXT);
    // One extra user tells whether a next page exists without a count.
    const users = await this.users.list({ search: options.search, limit: limit + 1, after });
    if (users.length <= limit) return { users };
    const page = users.slice(0, limit);
    return { users: page, nextCursor: encodePageCursor(positionOf(page[page.length - 1])) };
  }

  /** Whether the user exists and is active now (after a change was announced, this reads the database once). */
  async isActive(userId: string): Promise<boolean> {
    return (await this.activeUser(userId)) !== undefined;
  }

  /**
   * Calls `listener` with the id of every user changed through this service, on any API instance; with
   * undefined when changes may have been missed (this instance could not hear them for a while).
   */
  onUserChanged(listener: (change?: UserChange) => void): void {
    this.cache.onChange(listener);
  }

  /** Whether a token verified earlier (a socket's) has been revoked since: its session ended, or tokensValidAfter passed it. */
  async isRevoked(verified: VerifiedToken): Promise<boolean> {
    return this.revocations.isRevoked({ userId: verified.id, sessionId: verified.sessionId, issuedAtMs: verified.issuedAt?.getTime() });
  }

  /**
   * Whether a token verified earlier still holds: not revoked and its user active. Synchronous (from memory) in
   * the steady state, so a socket can be checked in the same tick it connects; a promise otherwise.
   */
  stillValid(verified: VerifiedToken): boolean | Promise<boolean> {
    const revoked = this.revocations.isRevoked({ userId: verified.id, sessionId: verified.sessionId, issuedAtMs: verified.issuedAt?.getTime() });
    const cached = this.cache.get(verified.id);
    if (revoked === true) return false;
    if (revoked === false && cached) return cached.status === 'active';
    return (async () => !(await revoked) && (await this.isActive(verified.id)))();
  }

  /**
   * The checks for REST (JwtAuthGuard) and sockets alike: signature, pinned algorithm, expiry, the token's
   * kind, its session not ended, an active user. No database read and no Redis round trip in the steady state.
   */
  async verifyToken(token: string, options: { allowDeleting?: boolean } = {}): Promise<VerifiedToken> {
    let decoded: { header: { typ?: unknown }; payload: JwtPayload };
    try {
      decoded = await this.jwt.verifyAsync(token, { algorithms: [JWT_ALGORITHM], complete: true });
    } catch {
      throw invalidToken();
    }
    const identity = accessTokenIdentity(decoded.header, decoded.payload);
    if (!identity || !this.lifetimeAllowed(decoded.payload)) throw invalidToken();
    const revoked = this.revocations.isRevoked(identity);
    if (revoked === true || (revoked !== false && (await revoked))) throw invalidToken();
    const user = (await this.activeUser(identity.userId)) ?? (options.allowDeleting ? await this.deletingUser(identity.userId) : undefined);
    if (!user) throw invalidToken();
    if (identity.sessionId) this.sessions.touch(identity.sessionId);
    const { exp, iat } = decoded.payload;
    return {
      id: user._id,
      email: user.email,
      name: user.name,
      role: user.role,
      sessionId: identity.sessionId,
      expiresAt: exp ? new Date(exp * 1000) : undefined,
      issuedAt: iat ? new Date(iat * 1000) : undefined,
    };
  }

  /**
   * A token must say when it was issued and expires, and live no longer than JWT_EXPIRES_IN (plus skew): lowering
   * JWT_EXPIRES_IN then also retires longer-lived tokens, whose revocations Redis keeps only that long.
   */
  private lifetimeAllowed(payload: JwtPayload): boolean {
    const { iat, exp } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number') return false;
    return (exp - iat) * 1000 <= this.config.accessTtlSeconds * 1000 + CLOCK_SKEW_MS;
  }

  /**
   * Ends the caller's other sessions. With a session, also every earlier token but the caller's session's; a caller
   * without one (a token from before sessions) keeps its token usable, so tokensValidAfter is left alone.
   */
  private endOtherSessions(caller: AuthUser): Promise<void> {
    return this.sessions.endAll(caller.id, { keep: caller.sessionId, voidEarlierTokens: caller.sessionId !== undefined });
  }

  /** The user when active: from memory on the hot path, else one read by _id (then remembered). */
  private async activeUser(userId: string): Promise<UserRecord | undefined> {
    const cached = this.cache.get(userId);
    if (cached) return cached;
    const version = this.cache.version;
    const user = await this.users.findById(userId);
    if (!user || user.status !== 'active') return undefined;
    this.cache.remember(user, version);
    return user;
  }

  /** A user whose account is being deleted (never cached: only DELETE /auth/me asks). */
  private async deletingUser(userId: string): Promise<UserRecord | undefined> {
    const user = await this.users.findById(userId);
    return user?.deletingAt ? user : undefined;
  }

  private roleFor(email: string): UserRole {
    return this.admins.adminEmails.includes(email.toLowerCase()) ? 'admin' : 'user';
  }

  /** ADMIN_EMAILS may have changed since the last login: the stored role follows it, and every instance forgets the old one. */
  private async syncRole(user: UserRecord): Promise<void> {
    const role = this.roleFor(user.email);
    if (user.role === role) return;
    await this.users.setRole(user._id, role);
    await this.cache.invalidate(user._id);
  }

  private async issue(user: UserRecord, client: ClientInfo): Promise<AuthResult> {
    const { token, refreshToken, expiresIn } = await this.sessions.start(user._id, client);
    return { _id: user._id, name: user.name, email: user.email, token, refreshToken, expiresIn };
  }
}

/**
 * Which kind of JWT this is, and the caller it names; undefined when it is no access token. An access token
 * has `typ: at+jwt` in its header, our audience and a session id. A token issued before sessions existed has
 * none of them (and no `typ` claim) and is accepted until it expires or tokensValidAfter passes it (as are
 * access tokens, but those of the session a password change kept). Anything
 * else (an admin session value, a token of another kind) is refused.
 */
function accessTokenIdentity(header: { typ?: unknown }, payload: JwtPayload): TokenIdentity | undefined {
  if (typeof payload.sub !== 'string') return undefined;
  if (payload.sid !== undefined) {
    const audienceOk = payload.aud === ACCESS_TOKEN_AUDIENCE || (Array.isArray(payload.aud) && payload.aud.includes(ACCESS_TOKEN_AUDIENCE));
    if (header.typ !== ACCESS_TOKEN_TYPE || !audienceOk || !isSessionId(payload.sid) || payload.typ !== undefined) return undefined;
    return { userId: payload.sub, sessionId: payload.sid, issuedAtMs: typeof payload.iat === 'number' ? payload.iat * 1000 : undefined };
  }
  const legacy = payload.aud === undefined && payload.typ === undefined && (header.typ === undefined || header.typ === 'JWT');
  return legacy ? { userId: payload.sub, issuedAtMs: typeof payload.iat === 'number' ? payload.iat * 1000 : undefined } : undefined;
}

function positionOf(user: UserRecord): PagePosition {
  return { createdAt: user.createdAt, id: user._id };
}
