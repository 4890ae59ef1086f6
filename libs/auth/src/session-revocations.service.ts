import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { authConfig, AuthConfig } from '@app/config';
import { SessionStoreRepository } from './session-store.repository';
import { UserCache, UserChange } from './user-cache.service';

/** Clock skew allowed on top of an access token's lifetime before a revocation is forgotten. */
const KEEP_MARGIN_MS = 60_000;
const SWEEP_INTERVAL_MS = 60_000;
const RELOAD_RETRY_MS = 1000;

/** The parts of an access token a revocation can match. */
export interface TokenIdentity {
  userId: string;
  /** `sid` of the token; tokens issued before sessions existed have none. */
  sessionId?: string;
  /** `iat` in ms; compared with the user's tokensValidAfter for tokens without a session. */
  issuedAtMs?: number;
}

/**
 * Which access tokens are revoked, answered from memory on every API instance so a request costs no
 * Redis round trip: ended sessions and per-user tokensValidAfter are written to Redis (kept as long as an
 * access token lives) and announced on the user cache's channel, which every instance hears. Memory is
 * trusted only while that channel is heard and after a full reload from Redis since the last
 * (re)subscription; until then each check asks Redis (and, when Redis cannot answer, memory: while Redis
 * is down nobody can revoke anything either).
 */
@Injectable()
export class SessionRevocations implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionRevocations.name);
  /** session id → when it ended (ms). */
  private readonly endedSessions = new Map<string, number>();
  /** user id → tokens without a session issued at or before this (ms) are void. */
  private readonly validAfter = new Map<string, number>();
  /** The cache's subscription count for which a full reload completed. */
  private loadedFor = -1;
  private readonly sweeper: NodeJS.Timeout;
  readonly keepMs: number;

  constructor(
    private readonly store: SessionStoreRepository,
    private readonly cache: UserCache,
    @Inject(authConfig.KEY) config: AuthConfig,
  ) {
    this.keepMs = config.accessTtlSeconds * 1000 + KEEP_MARGIN_MS;
    // Registered here, before anyone else can listen (the gateway), so a change is applied before others hear it.
    cache.onChange((change) => change && this.apply(change));
    cache.onListen(() => void this.reload(cache.subscriptions));
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Whether memory is current: the channel is heard and everything recorded before it was loaded. */
  get trusted(): boolean {
    return this.cache.isListening && this.loadedFor === this.cache.subscriptions;
  }

  /**
   * True when the token is revoked. Synchronous (no promise, no Redis) while memory is trusted, which is
   * the steady state; a promise that asks Redis otherwise.
   */
  isRevoked(token: TokenIdentity): boolean | Promise<boolean> {
    if (this.trusted) return this.revokedInMemory(token);
    return this.checkRedis(token);
  }

  /** Records ended sessions (and tokensValidAfter), then tells every instance; this one applies it at once. */
  async revoke(userId: string, sessionIds: string[], tokensValidAfterMs?: number): Promise<void> {
    if (sessionIds.length === 0 && tokensValidAfterMs === undefined) return;
    await this.store.revoke({ userId, sessionIds, validAfterMs: tokensValidAfterMs, keepMs: this.keepMs });
    const change = { userId, endedSessions: sessionIds, tokensValidAfterMs };
    this.apply(change);
    await this.cache.invalidate(userId, change);
  }

  private revokedInMemory(token: TokenIdentity): boolean {
    if (token.sessionId !== undefined) return this.endedSessions.has(token.sessionId);
    const validAfter = this.validAfter.get(token.userId);
    return validAfter !== undefined && (token.issuedAtMs === undefined || token.issuedAtMs <= validAfter);
  }

  private async checkRedis(token: TokenIdentity): Promise<boolean> {
    try {
      const found = await this.store.check(token.userId, token.sessionId);
      if (found.sessionEnded && token.sessionId) this.endedSessions.set(token.sessionId, Date.now());
      if (found.validAfterMs !== undefined) this.raiseValidAfter(token.userId, found.validAfterMs);
    } catch (error) {
      this.logger.debug?.(`Revocation check fell back to memory: ${(error as Error).message}`);
    }
    return this.revokedInMemory(token);
  }

  private apply(change: UserChange): void {
    const now = Date.now();
    for (const id of change.endedSessions) this.endedSessions.set(id, now);
    if (change.tokensValidAfterMs !== undefined) this.raiseValidAfter(change.userId, change.tokensValidAfterMs);
  }

  private raiseValidAfter(userId: string, at: number): void {
    if ((this.validAfter.get(userId) ?? -Infinity) < at) this.validAfter.set(userId, at);
  }

  /** Merges (never replaces: revocations only add up) what Redis holds; memory is trusted once it succeeds for this subscription. */
  private async reload(subscription: number): Promise<void> {
    try {
      const loaded = await this.store.load(this.keepMs);
      for (const [id, at] of loaded.sessions) this.endedSessions.set(id, at);
      for (const [userId, at] of loaded.validAfter) this.raiseValidAfter(userId, at);
      if (subscription === this.cache.subscriptions) this.loadedFor = subscription;
    } catch (error) {
      this.logger.warn(`Could not load revoked sessions, asking Redis per request meanwhile: ${(error as Error).message}`);
      setTimeout(() => subscription === this.cache.subscriptions && void this.reload(subscription), RELOAD_RETRY_MS).unref();
    }
  }

  /** Forgets revocations older than the longest an access token lives. */
  private sweep(): void {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, at] of this.endedSessions) if (at < cutoff) this.endedSessions.delete(id);
    for (const [userId, at] of this.validAfter) if (at < cutoff) this.validAfter.delete(userId);
  }
}
