import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { authConfig, AuthConfig } from '@app/config';
import { Revocations, SessionStoreRepository } from './session-store.repository';
import { UserCache, UserChange } from './user-cache.service';

/** Clock skew allowed on top of an access token's lifetime before a revocation is forgotten. */
export const CLOCK_SKEW_MS = 60_000;
const SWEEP_INTERVAL_MS = 60_000;
/** Memory is trusted this long after the start of the last successful read from Redis, no longer. */
export const REVOCATIONS_STALE_MS = 3000;
/** tokensValidAfter is scored with the writing instance's clock: each read looks this far back for it. */
const VALID_AFTER_OVERLAP_MS = CLOCK_SKEW_MS;

/** The parts of an access token a revocation can match. */
export interface TokenIdentity {
  userId: string;
  /** `sid` of the token; tokens issued before sessions existed have none. */
  sessionId?: string;
  /** `iat` in ms; compared with the user's tokensValidAfter. */
  issuedAtMs?: number;
}

/** The change a revocation announces, beyond the ended sessions. */
export interface ValidAfter {
  /** Tokens issued at or before this time (ms) are void... */
  atMs: number;
  /** ...but those of this session (the caller's, kept by a password change). */
  keptSessionId?: string;
}

/**
 * Which access tokens are revoked, answered from memory on every API instance so a request costs no
 * Redis round trip: ended sessions and per-user tokensValidAfter are written to Redis (kept as long as an
 * access token lives) and announced on the user cache's channel, which every instance hears. A message can be
 * lost while the channel still looks heard (a cluster resubscribing after a node change, a half-open
 * connection, a publish failing after the write), so each instance also reads what Redis recorded since its
 * last read every AUTH_REVOCATION_POLL_MS. Memory is trusted only while the channel is heard, a read since the
 * last (re)subscription completed, and the last successful read started less than 3 s ago; otherwise each check
 * asks Redis (and, when Redis cannot answer, memory: this instance can then reach no Redis to be told anything).
 */
@Injectable()
export class SessionRevocations implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionRevocations.name);
  /** session id → when it ended (ms). */
  private readonly endedSessions = new Map<string, number>();
  /** user id → tokens issued at or before this (ms) are void, but those of the session kept with it. */
  private readonly validAfter = new Map<string, number>();
  /** `<userId> <sessionId>` → the tokensValidAfter that spared that session. */
  private readonly kept = new Map<string, number>();
  /** The cache's subscription count for which a read completed after it began. */
  private loadedFor = -1;
  /** Redis's time of the last successful read: the next one reads what was recorded since. */
  private readAtMs?: number;
  /** This instance's time when the last successful read started. */
  private freshAt = -Infinity;
  private inFlight?: { startedAt: number };
  private failing = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly poller: NodeJS.Timeout;
  readonly keepMs: number;

  constructor(
    private readonly store: SessionStoreRepository,
    private readonly cache: UserCache,
    @Inject(authConfig.KEY) config: AuthConfig,
  ) {
    this.keepMs = config.accessTtlSeconds * 1000 + CLOCK_SKEW_MS;
    // Registered here, before anyone else can listen (the gateway), so a change is applied before others hear it.
    cache.onChange((change) => change && this.apply(change));
    cache.onListen(() => void this.poll());
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
    this.poller = setInterval(() => void this.poll(), config.revocationPollMs ?? 500).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    clearInterval(this.poller);
  }

  /** Whether memory is current: the channel is heard, read since it was (re)subscribed, and read from Redis within 3 s. */
  get trusted(): boolean {
    return this.cache.isListening && this.loadedFor === this.cache.subscriptions && Date.now() - this.freshAt < REVOCATIONS_STALE_MS;
  }

  /**
   * True when the token is revoked. Synchronous (no promise, no Redis) while memory is trusted, which is
   * the steady state; a promise that asks Redis otherwise.
   */
  isRevoked(token: TokenIdentity): boolean | Promise<boolean> {
    if (this.trusted) return this.revokedInMemory(token);
    return this.checkRedis(token);
  }

  /**
   * Records ended sessions (and tokensValidAfter), then tells every instance; this one applies it at once. A
   * failed announcement is only logged: the write is in Redis, and every instance reads it within a poll.
   */
  async revoke(userId: string, sessionIds: string[], validAfter?: ValidAfter): Promise<void> {
    if (sessionIds.length === 0 && validAfter === undefined) return;
    await this.store.revoke({ userId, sessionIds, validAfterMs: validAfter?.atMs, keptSessionId: validAfter?.keptSessionId, keepMs: this.keepMs });
    const change: UserChange = { userId, endedSessions: sessionIds, tokensValidAfterMs: validAfter?.atMs, keptSessionId: validAfter?.keptSessionId };
    this.apply(change);
    try {
      await this.cache.invalidate(userId, change);
    } catch (error) {
      this.logger.warn(`Could not announce revoked sessions of user ${userId}; other instances read them within a poll: ${(error as Error).message}`);
    }
  }

  private revokedInMemory(token: TokenIdentity): boolean {
    if (token.sessionId !== undefined && this.endedSessions.has(token.sessionId)) return true;
    const validAfter = this.validAfter.get(token.userId);
    if (validAfter === undefined) return false;
    if (token.sessionId !== undefined && this.kept.get(`${token.userId} ${token.sessionId}`) === validAfter) return false;
    if (token.issuedAtMs === undefined) return true;
    // iat has whole seconds: a session's token counts as issued at the end of its second, so a login right after a
    // logout-all (same second) is not refused; its session, if it was ended, is in endedSessions anyway.
    return token.sessionId === undefined ? token.issuedAtMs <= validAfter : token.issuedAtMs + 999 < validAfter;
  }

  private async checkRedis(token: TokenIdentity): Promise<boolean> {
    try {
      const found = await this.store.check(token.userId, token.sessionId);
      if (found.sessionEnded && token.sessionId) this.endedSessions.set(token.sessionId, Date.now());
      if (found.validAfterMs !== undefined) this.raiseValidAfter(token.userId, found.validAfterMs);
      if (found.keptWithMs !== undefined && token.sessionId) this.raiseKept(`${token.userId} ${token.sessionId}`, found.keptWithMs);
    } catch (error) {
      this.logger.debug?.(`Revocation check fell back to memory: ${(error as Error).message}`);
    }
    return this.revokedInMemory(token);
  }

  private apply(change: UserChange): void {
    const now = Date.now();
    for (const id of change.endedSessions) this.endedSessions.set(id, now);
    if (change.tokensValidAfterMs === undefined) return;
    if (change.keptSessionId) this.raiseKept(`${change.userId} ${change.keptSessionId}`, change.tokensValidAfterMs);
    this.raiseValidAfter(change.userId, change.tokensValidAfterMs);
  }

  private raiseValidAfter(userId: string, at: number): void {
    if ((this.validAfter.get(userId) ?? -Infinity) < at) this.validAfter.set(userId, at);
  }

  private raiseKept(key: string, at: number): void {
    if ((this.kept.get(key) ?? -Infinity) < at) this.kept.set(key, at);
  }

  /**
   * Merges (never replaces: revocations only add up) what Redis recorded since the last successful read (all of
   * the last access lifetime the first time). A failed read leaves the cursor where it was, so the next one
   * catches up; one hung longer than the staleness bound no longer holds the next back.
   */
  private async poll(): Promise<void> {
    const startedAt = Date.now();
    if (this.inFlight && startedAt - this.inFlight.startedAt < REVOCATIONS_STALE_MS) return;
    const attempt = { startedAt };
    this.inFlight = attempt;
    const subscription = this.cache.subscriptions;
    try {
      const found = await this.store.load({ sinceMs: this.readAtMs, keepMs: this.keepMs, overlapMs: VALID_AFTER_OVERLAP_MS });
      this.merge(found);
      this.readAtMs = Math.max(this.readAtMs ?? 0, found.readAtMs);
      this.freshAt = Math.max(this.freshAt, startedAt);
      if (subscription === this.cache.subscriptions && this.cache.isListening) this.loadedFor = subscription;
      if (this.failing) this.logger.log('Reading revocations from Redis again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Could not read revocations, asking Redis per request after 3 s: ${(error as Error).message}`);
      this.failing = true;
    } finally {
      if (this.inFlight === attempt) this.inFlight = undefined;
    }
  }

  private merge(found: Revocations): void {
    for (const [id, at] of found.sessions) if (!this.endedSessions.has(id)) this.endedSessions.set(id, at);
    for (const [key, at] of found.kept) this.raiseKept(key, at);
    for (const [userId, at] of found.validAfter) this.raiseValidAfter(userId, at);
  }

  /** Forgets revocations older than the longest an access token lives. */
  private sweep(): void {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, at] of this.endedSessions) if (at < cutoff) this.endedSessions.delete(id);
    for (const [userId, at] of this.validAfter) if (at < cutoff) this.validAfter.delete(userId);
    for (const [key, at] of this.kept) if (at < cutoff) this.kept.delete(key);
  }
}
