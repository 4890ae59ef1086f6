import { Inject, Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LRUCache } from 'lru-cache';
import { DomainError } from '@app/common';
import { authConfig, AuthConfig } from '@app/config';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_TYPE, JWT_ALGORITHM } from './auth.types';
import { hashRefreshToken, isSessionId, newRefreshToken, newSessionId, PairSealer, parseRefreshToken, TokenPair } from './refresh-token';
import { SessionRevocations, ValidAfter } from './session-revocations.service';
import { SessionStoreRepository } from './session-store.repository';
import { SessionRepository } from './session.repository';
import { USER_AGENT_MAX_LENGTH } from './session.schema';

/** lastUsedAt is written at most this often per session and API instance. */
const TOUCH_INTERVAL_MS = 60_000;

/** Where a sign-in came from, as the controller read it. */
export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

/** What register, login and refresh hand out. */
export interface IssuedTokens extends TokenPair {
  /** Seconds the access token lives. */
  expiresIn: number;
}

export interface SessionView {
  id: string;
  userAgent?: string;
  ip?: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  current: boolean;
}

const invalidRefresh = () => new DomainError('UNAUTHENTICATED', 'Invalid or expired refresh token');

/**
 * Sessions: one per login or register, named by `sid` in its access tokens; a refresh token per session,
 * rotated on every use (SessionStoreRepository makes rotation exclusive); ending one revokes its access
 * tokens on every instance (SessionRevocations).
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  private readonly sealer: PairSealer;
  /** Sessions whose lastUsedAt this instance wrote within the last minute. */
  private readonly touched = new LRUCache<string, true>({ max: 50_000, ttl: TOUCH_INTERVAL_MS });

  constructor(
    private readonly jwt: JwtService,
    private readonly store: SessionStoreRepository,
    private readonly records: SessionRepository,
    private readonly revocations: SessionRevocations,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {
    this.sealer = new PairSealer(config.jwtSecret);
  }

  /** Command: a new session for the user, and its first tokens. */
  async start(userId: string, client: ClientInfo): Promise<IssuedTokens & { sessionId: string }> {
    const sessionId = newSessionId();
    const now = new Date();
    // The record first: a session live in Redis is always listed.
    await this.records.create({
      id: sessionId,
      userId,
      userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH),
      ip: client.ip,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.refreshTtlMs),
    });
    const refreshToken = newRefreshToken({ userId, sessionId });
    await this.store.create(userId, sessionId, hashRefreshToken(refreshToken), this.refreshTtlMs);
    this.touched.set(sessionId, true);
    return { token: await this.signAccess(userId, sessionId), refreshToken, expiresIn: this.config.accessTtlSeconds, sessionId };
  }

  /**
   * Command: exchanges a refresh token for a new pair. The token rotated away is dead, except that within
   * the grace window it gets the very pair its first use got (a client's retry); later, it ends the session.
   */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const owner = parseRefreshToken(refreshToken);
    if (!owner) throw invalidRefresh();
    const next: TokenPair = { token: await this.signAccess(owner.userId, owner.sessionId), refreshToken: newRefreshToken(owner) };
    const outcome = await this.store.rotate(
      owner,
      hashRefreshToken(refreshToken),
      { hash: hashRefreshToken(next.refreshToken), sealedPair: this.sealer.seal(next) },
      { graceMs: this.config.refreshGraceMs, ttlMs: this.refreshTtlMs },
    );
    switch (outcome.kind) {
      case 'rotated': {
        const now = new Date();
        this.touched.set(owner.sessionId, true);
        this.offRequestPath(this.records.touch(owner.sessionId, now, new Date(now.getTime() + this.refreshTtlMs)), 'record a refresh');
        return { ...next, expiresIn: this.config.accessTtlSeconds };
      }
      case 'replayed': {
        const pair = this.sealer.open(outcome.sealedPair);
        if (!pair) throw invalidRefresh();
        return { ...pair, expiresIn: this.config.accessTtlSeconds };
      }
      case 'reused':
        this.logger.warn(`Refresh token reused: session ${owner.sessionId} of user ${owner.userId} ended`);
        await this.announceEnded(owner.userId, [owner.sessionId]);
        throw new DomainError('UNAUTHENTICATED', 'Refresh token already used; the session has ended');
      default:
        throw invalidRefresh();
    }
  }

  /** Command: ends the caller's session (idempotent); a token without a session voids the user's tokens without one. */
  async logout(userId: string, sessionId: string | undefined): Promise<void> {
    if (sessionId === undefined) {
      await this.revocations.revoke(userId, [], { atMs: Date.now() });
      return;
    }
    await this.store.end(userId, sessionId);
    await this.announceEnded(userId, [sessionId]);
  }

  /** Command: ends one of the user's sessions; NOT_FOUND when it is not one of theirs or already ended. */
  async end(userId: string, sessionId: string): Promise<void> {
    if (!isSessionId(sessionId) || !(await this.store.end(userId, sessionId))) throw new DomainError('NOT_FOUND', 'Session not found');
    await this.announceEnded(userId, [sessionId]);
  }

  /**
   * Command: ends every session of the user but `keep`; with `voidEarlierTokens`, also every token issued until
   * now (of any session but `keep`, and those issued before sessions existed).
   */
  async endAll(userId: string, options: { keep?: string; voidEarlierTokens: boolean }): Promise<void> {
    const ended = await this.store.endAll(userId, options.keep);
    await this.announceEnded(userId, ended, options.voidEarlierTokens ? { atMs: Date.now(), keptSessionId: options.keep } : undefined);
  }

  /** Command: removes the user's session records (an account's deletion; Redis state is ended by endAll). */
  async deleteRecordsOf(userId: string): Promise<void> {
    await this.records.deleteAllOf(userId);
  }

  /** Query: the user's live sessions, most recently used first. */
  async list(userId: string, currentSessionId: string | undefined): Promise<SessionView[]> {
    const records = await this.records.findLive(userId, await this.store.liveSessionIds(userId));
    return records
      .map(({ id, userAgent, ip, createdAt, lastUsedAt, expiresAt }) => ({ id, userAgent, ip, createdAt, lastUsedAt, expiresAt, current: id === currentSessionId }))
      .sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime());
  }

  /** Notes that a session was used: at most one database write a minute per session and instance, never on the request path. */
  touch(sessionId: string): void {
    if (this.touched.has(sessionId)) return;
    this.touched.set(sessionId, true);
    this.offRequestPath(this.records.touch(sessionId, new Date()), 'record a session use');
  }

  private async announceEnded(userId: string, sessionIds: string[], validAfter?: ValidAfter): Promise<void> {
    await this.revocations.revoke(userId, sessionIds, validAfter);
    // The record is for listing and audit only: Redis already says the session ended.
    this.offRequestPath(this.records.markEnded(sessionIds, new Date()), 'record ended sessions');
  }

  private signAccess(userId: string, sessionId: string): Promise<string> {
    return this.jwt.signAsync(
      { sid: sessionId },
      { subject: userId, audience: ACCESS_TOKEN_AUDIENCE, header: { alg: JWT_ALGORITHM, typ: ACCESS_TOKEN_TYPE } },
    );
  }

  private offRequestPath(write: Promise<unknown>, what: string): void {
    write.catch((error: Error) => this.logger.warn(`Could not ${what}: ${error.message}`));
  }

  private get refreshTtlMs(): number {
    return this.config.refreshTtlSeconds * 1000;
  }
}
