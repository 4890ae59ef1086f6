import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DomainError } from '@app/common';
import { AuthUser, JWT_ALGORITHM, JwtPayload } from './auth.types';
import { PasswordHasher } from './password';
import { UserCache } from './user-cache.service';
import { UserRecord, UserRepository } from './user.repository';

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
  ) {}

  async register(input: { name: string; email: string; password: string }): Promise<AuthResult> {
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.users.create({ name: input.name, email: input.email, passwordHash });
    if (!user) throw new DomainError('EMAIL_TAKEN', 'A user with this email already exists');
    return this.issue(user);
  }

  async login(input: { email: string; password: string }): Promise<AuthResult> {
    const user = await this.users.findByEmailWithHash(input.email);
    const valid = await this.passwords.verify(input.password, user?.passwordHash);
    if (!user || !valid) throw new DomainError('INVALID_CREDENTIALS', 'Invalid credentials');
    if (user.status !== 'active') throw new DomainError('USER_INACTIVE', 'This account is inactive');
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

  /** The checks for REST (JwtAuthGuard) and sockets alike: signature, pinned algorithm, expiry, an active user. */
  async verifyToken(token: string): Promise<AuthUser & { expiresAt?: Date }> {
    let payload: JwtPayload;
    try {
      payload = await this.jwt.verifyAsync<JwtPayload>(token, { algorithms: [JWT_ALGORITHM] });
    } catch {
      throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    }
    const user = await this.userForPayload(payload);
    return { ...user, expiresAt: payload.exp ? new Date(payload.exp * 1000) : undefined };
  }

  private async userForPayload(payload: JwtPayload): Promise<AuthUser> {
    const user = typeof payload.sub === 'string' ? await this.activeUser(payload.sub) : undefined;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    return { id: user._id, email: user.email, name: user.name };
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

  private async issue(user: UserRecord): Promise<AuthResult> {
    const token = await this.jwt.signAsync({}, { subject: user._id });
    return { _id: user._id, name: user.name, email: user.email, token };
  }
}
