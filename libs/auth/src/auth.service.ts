import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DomainError } from '@app/common';
import { adminConfig, AdminConfig } from '@app/config';
import { AuthUser, JWT_ALGORITHM, JwtPayload, USERS_DEFAULT_PAGE_SIZE } from './auth.types';
import { PasswordHasher } from './password';
import { UserCache } from './user-cache.service';
import { UserPosition, UserRecord, UserRepository } from './user.repository';
import { UserRole } from './user.schema';

export interface UserPage {
  users: UserRecord[];
  /** Set when there are more users after this page. */
  nextCursor?: string;
}

export interface AuthResult {
  _id: string;
  name: string;
  email: string;
  token: string;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly cache: UserCache,
    @Inject(adminConfig.KEY) private readonly admins: AdminConfig,
  ) {}

  async register(input: { name: string; email: string; password: string }): Promise<AuthResult> {
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.users.create({ name: input.name, email: input.email, passwordHash, role: this.roleFor(input.email) });
    if (!user) throw new DomainError('EMAIL_TAKEN', 'A user with this email already exists');
    return this.issue(user);
  }

  async login(input: { email: string; password: string }): Promise<AuthResult> {
    const user = await this.users.findByEmailWithHash(input.email);
    const valid = await this.passwords.verify(input.password, user?.passwordHash);
    if (!user || !valid) throw new DomainError('INVALID_CREDENTIALS', 'Invalid credentials');
    if (user.status !== 'active') throw new DomainError('USER_INACTIVE', 'This account is inactive');
    await this.syncRole(user);
    return this.issue(user);
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
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    // One extra user tells whether a next page exists without a count.
    const users = await this.users.list({ search: options.search, limit: limit + 1, after });
    if (users.length <= limit) return { users };
    const page = users.slice(0, limit);
    return { users: page, nextCursor: encodeCursor(page[page.length - 1]) };
  }

  /** Whether the user exists and is active now (after a change was announced, this reads the database once). */
  async isActive(userId: string): Promise<boolean> {
    return (await this.activeUser(userId)) !== undefined;
  }

  /**
   * Calls `listener` with the id of every user changed through this service, on any API instance; with
   * undefined when changes may have been missed (this instance could not hear them for a while).
   */
  onUserChanged(listener: (userId?: string) => void): void {
    this.cache.onChange(listener);
  }

  /** The checks for REST (JwtAuthGuard) and sockets alike: signature, pinned algorithm, expiry, an active user. */
  async verifyToken(token: string): Promise<AuthUser & { expiresAt?: Date }> {
    let payload: JwtPayload;
    try {
      payload = await this.jwt.verifyAsync<JwtPayload>(token, { algorithms: [JWT_ALGORITHM] });
    } catch {
      throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    }
    // An admin session value (same key, own audience) is for the admin pages' cookie only.
    if (payload.aud !== undefined || payload.typ !== undefined) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    const user = await this.userForPayload(payload);
    return { ...user, expiresAt: payload.exp ? new Date(payload.exp * 1000) : undefined };
  }

  private async userForPayload(payload: JwtPayload): Promise<AuthUser> {
    const user = typeof payload.sub === 'string' ? await this.activeUser(payload.sub) : undefined;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    return { id: user._id, email: user.email, name: user.name, role: user.role };
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

  private async issue(user: UserRecord): Promise<AuthResult> {
    const token = await this.jwt.signAsync({}, { subject: user._id });
    return { _id: user._id, name: user.name, email: user.email, token };
  }
}

const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([0-9a-f]{24})$/;

/** Opaque to clients: base64url of `<createdAt ISO>|<_id>` of the last user of a page (as the library's cursor). */
function encodeCursor(user: UserRecord): string {
  return Buffer.from(`${new Date(user.createdAt).toISOString()}|${user._id}`).toString('base64url');
}

function decodeCursor(cursor: string): UserPosition {
  const match = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  const createdAt = match ? new Date(match[1]) : undefined;
  if (!match || !createdAt || Number.isNaN(createdAt.getTime())) {
    throw new DomainError('INVALID_ARGUMENT', 'cursor is invalid', { details: [{ field: 'cursor', errors: ['cursor is invalid'] }] });
  }
  return { createdAt, id: match[2] };
}
