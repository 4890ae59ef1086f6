import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, RedisClient, RedisConnection, userKeyPrefix } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

/** Refresh tokens rotated away that are still recognised as reuse (older ones are merely invalid). */
export const USED_REFRESH_TOKENS_KEPT = 100;

/**
 * The exclusive state of sessions, in Redis because FerretDB's conditional updates are not atomic:
 * under the user's hash tag, per session a hash (`cur`: hash of the live refresh token, `rotatedAt`, `pair`:
 * the sealed pair the last rotation issued) and a list of the hashes rotated away (newest first), and per user
 * the set of session ids. Global, under the prefix's tag: the ended sessions and each user's
 * `tokensValidAfter`, scored by time, kept as long as an access token lives.
 */
export const sessionKeys = {
  session: (prefix: string, userId: string, sessionId: string): string => `${sessionKeys.sessionPrefix(prefix, userId)}${sessionId}`,
  used: (prefix: string, userId: string, sessionId: string): string => `${sessionKeys.session(prefix, userId, sessionId)}:used`,
  sessionPrefix: (prefix: string, userId: string): string => `${userKeyPrefix(prefix, userId)}:session:`,
  userSessions: (prefix: string, userId: string): string => `${userKeyPrefix(prefix, userId)}:sessions`,
  revokedSessions: (prefix: string): string => `${prefix}:revoked-sessions`,
  tokensValidAfter: (prefix: string): string => `${prefix}:tokens-valid-after`,
  /** `<userId> <sessionId>` scored with the tokensValidAfter that spared that session (a password change keeps the caller's). */
  tokensValidAfterKept: (prefix: string): string => `${prefix}:tokens-valid-after-kept`,
};

/** Redis's own clock in ms: every instance's scripts compare times on one clock, whatever their skew. */
const NOW_MS = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Keeps the user's set of sessions at least as long as the session being written. ARGV[1]: ttl ms. */
const EXTEND_USER_SET = `
local function extendUserSet(key, ttl)
  local left = redis.call('PTTL', key)
  if left < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;

/** KEYS: session, used, user set. ARGV: refresh hash, ttl ms, session id. */
const CREATE = `${EXTEND_USER_SET}${NOW_MS}
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'cur', ARGV[1], 'rotatedAt', nowMs())
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
extendUserSet(KEYS[3], ARGV[2])
return 1
`;

/**
 * Rotation, the retry grace and reuse detection in one step, so of concurrent refreshes with one token
 * exactly one rotates and the others get that rotation's pair (or 401), never a second valid pair. The grace
 * is timed on Redis's clock, so skew between API instances cannot stretch it or cut a retry short.
 * KEYS: session, used, user set. ARGV: presented hash, new hash, sealed new pair, (unused), grace ms, ttl ms,
 * session id, used hashes kept.
 */
const ROTATE = `${EXTEND_USER_SET}${NOW_MS}
local cur = redis.call('HGET', KEYS[1], 'cur')
if not cur then return {'missing'} end
local now = nowMs()
if ARGV[1] == cur then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'rotatedAt', now, 'pair', ARGV[3])
  redis.call('LPUSH', KEYS[2], ARGV[1])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[8]) - 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  extendUserSet(KEYS[3], ARGV[6])
  return {'rotated'}
end
if ARGV[1] == redis.call('LINDEX', KEYS[2], 0) and now - tonumber(redis.call('HGET', KEYS[1], 'rotatedAt')) <= tonumber(ARGV[5]) then
  return {'replayed', redis.call('HGET', KEYS[1], 'pair')}
end
if redis.call('LPOS', KEYS[2], ARGV[1]) then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SREM', KEYS[3], ARGV[7])
  return {'reused'}
end
return {'invalid'}
`;

/** KEYS: session, used, user set. ARGV: session id. 1 when the session was live. */
const END = `
local live = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return live
`;

/** Ends every session of the user but one. KEYS: user set. ARGV: the user's session key prefix, the id to keep (or ''). Returns the ended ids. */
const END_ALL = `
local ended = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. id, ARGV[1] .. id .. ':used')
    redis.call('SREM', KEYS[1], id)
    table.insert(ended, id)
  end
end
return ended
`;

/** The live session ids; ids whose state expired are dropped from the set. KEYS: user set. ARGV: session key prefix. */
const LIVE = `
local live = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then table.insert(live, id) else redis.call('SREM', KEYS[1], id) end
end
return live
`;

/**
 * Records ended sessions (scored with Redis's clock) and a user's tokensValidAfter (with the session it spared),
 * dropping what is older than `keep`.
 * KEYS: revoked sessions, tokens valid after, kept. ARGV: keep ms, valid-after ms (or ''), user id, kept session id (or ''), session ids...
 */
const REVOKE = `${NOW_MS}
local now = nowMs()
local cutoff = now - tonumber(ARGV[1])
for i = 1, 3 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', cutoff) end
for i = 5, #ARGV do redis.call('ZADD', KEYS[1], now, ARGV[i]) end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[3])
  if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], 'GT', ARGV[2], ARGV[3] .. ' ' .. ARGV[4]) end
end
return 1
`;

/** KEYS: revoked sessions, tokens valid after, kept. ARGV: session id (or ''), user id. */
const CHECK = `
local ended = false
local kept = false
if ARGV[1] ~= '' then
  ended = redis.call('ZSCORE', KEYS[1], ARGV[1])
  kept = redis.call('ZSCORE', KEYS[3], ARGV[2] .. ' ' .. ARGV[1])
end
return {ended, redis.call('ZSCORE', KEYS[2], ARGV[2]), kept}
`;

/**
 * What was recorded since a time (Redis's clock; all of the last `keep` when none), and Redis's time now
 * (the next read's `since`). KEYS: revoked sessions, tokens valid after, kept. ARGV: since ms (or ''), keep ms,
 * overlap ms for the tokensValidAfter sets (scored with API instances' clocks).
 */
const LOAD = `${NOW_MS}
local now = nowMs()
local since = now - tonumber(ARGV[2])
if ARGV[1] ~= '' then since = math.max(since, tonumber(ARGV[1])) end
local sinceValidAfter = since
if ARGV[1] ~= '' then sinceValidAfter = math.max(now - tonumber(ARGV[2]), tonumber(ARGV[1]) - tonumber(ARGV[3])) end
return {
  redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES'),
  redis.call('ZRANGEBYSCORE', KEYS[2], sinceValidAfter, '+inf', 'WITHSCORES'),
  redis.call('ZRANGEBYSCORE', KEYS[3], sinceValidAfter, '+inf', 'WITHSCORES'),
  tostring(now)
}
`;

type Reply = [string, string?];

interface SessionCommands {
  authSessionCreate(session: string, used: string, userSet: string, hash: string, ttlMs: number, sessionId: string): Promise<number>;
  authSessionRotate(
    session: string,
    used: string,
    userSet: string,
    presented: string,
    next: string,
    sealedPair: string,
    unused: string,
    graceMs: number,
    ttlMs: number,
    sessionId: string,
    kept: number,
  ): Promise<Reply>;
  authSessionEnd(session: string, used: string, userSet: string, sessionId: string): Promise<number>;
  authSessionEndAll(userSet: string, sessionPrefix: string, keep: string): Promise<string[]>;
  authSessionLive(userSet: string, sessionPrefix: string): Promise<string[]>;
  authRevoke(revoked: string, validAfter: string, kept: string, ...args: (string | number)[]): Promise<number>;
  authRevocationCheck(revoked: string, validAfter: string, kept: string, sessionId: string, userId: string): Promise<[string | null, string | null, string | null]>;
  authRevocationLoad(revoked: string, validAfter: string, kept: string, sinceMs: number | '', keepMs: number, overlapMs: number): Promise<[string[], string[], string[], string]>;
}

export type RotateOutcome = { kind: 'rotated' } | { kind: 'replayed'; sealedPair: string } | { kind: 'reused' } | { kind: 'invalid' } | { kind: 'missing' };

/** What every instance must know to refuse revoked access tokens: ended session ids, and per user the time before which tokens are void. */
export interface Revocations {
  /** session id → when it ended (ms, Redis's clock). */
  sessions: Map<string, number>;
  /** user id → tokens issued at or before this (ms) are void, but those of the session kept with it. */
  validAfter: Map<string, number>;
  /** `<userId> <sessionId>` → the tokensValidAfter that spared that session. */
  kept: Map<string, number>;
  /** Redis's time when this was read: the next read's `since`. */
  readAtMs: number;
}

/** A user's tokensValidAfter and the session it spared, as one revocation check found them. */
export interface RevocationCheck {
  sessionEnded: boolean;
  validAfterMs?: number;
  /** The tokensValidAfter with which the checked session was kept. */
  keptWithMs?: number;
}

@Injectable()
export class SessionStoreRepository {
  private readonly redis: RedisClient & SessionCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<SessionCommands>(redis, {
      authSessionCreate: { keys: 3, lua: CREATE },
      authSessionRotate: { keys: 3, lua: ROTATE },
      authSessionEnd: { keys: 3, lua: END },
      authSessionEndAll: { keys: 1, lua: END_ALL },
      authSessionLive: { keys: 1, lua: LIVE },
      authRevoke: { keys: 3, lua: REVOKE },
      authRevocationCheck: { keys: 3, lua: CHECK },
      authRevocationLoad: { keys: 3, lua: LOAD },
    });
  }

  async create(userId: string, sessionId: string, refreshHash: string, ttlMs: number): Promise<void> {
    await this.redis.authSessionCreate(...this.sessionKeys(userId, sessionId), refreshHash, ttlMs, sessionId);
  }

  async rotate(
    owner: { userId: string; sessionId: string },
    presented: string,
    next: { hash: string; sealedPair: string },
    options: { graceMs: number; ttlMs: number },
  ): Promise<RotateOutcome> {
    const [kind, sealedPair] = await this.redis.authSessionRotate(
      ...this.sessionKeys(owner.userId, owner.sessionId),
      presented,
      next.hash,
      next.sealedPair,
      '',
      options.graceMs,
      options.ttlMs,
      owner.sessionId,
      USED_REFRESH_TOKENS_KEPT,
    );
    return kind === 'replayed' ? { kind, sealedPair: sealedPair ?? '' } : ({ kind } as RotateOutcome);
  }

  /** True when the session was live (its refresh state existed). */
  async end(userId: string, sessionId: string): Promise<boolean> {
    return (await this.redis.authSessionEnd(...this.sessionKeys(userId, sessionId), sessionId)) === 1;
  }

  /** Ends every session of the user except `keep`; returns the ended ids. */
  endAll(userId: string, keep?: string): Promise<string[]> {
    const prefix = this.redisOptions.prefix;
    return this.redis.authSessionEndAll(sessionKeys.userSessions(prefix, userId), sessionKeys.sessionPrefix(prefix, userId), keep ?? '');
  }

  liveSessionIds(userId: string): Promise<string[]> {
    const prefix = this.redisOptions.prefix;
    return this.redis.authSessionLive(sessionKeys.userSessions(prefix, userId), sessionKeys.sessionPrefix(prefix, userId));
  }

  /** Records ended sessions (and optionally a user's tokensValidAfter, sparing `keptSessionId`), forgotten after `keepMs`. */
  async revoke(input: { userId: string; sessionIds: string[]; validAfterMs?: number; keptSessionId?: string; keepMs: number }): Promise<void> {
    await this.redis.authRevoke(...this.revocationKeys(), input.keepMs, input.validAfterMs ?? '', input.userId, input.keptSessionId ?? '', ...input.sessionIds);
  }

  /** One round trip: whether the session ended, the user's tokensValidAfter (ms), and whether it spared the session. */
  async check(userId: string, sessionId: string | undefined): Promise<RevocationCheck> {
    const [ended, validAfter, kept] = await this.redis.authRevocationCheck(...this.revocationKeys(), sessionId ?? '', userId);
    return {
      sessionEnded: ended !== null && ended !== undefined,
      validAfterMs: validAfter ? Number(validAfter) : undefined,
      keptWithMs: kept ? Number(kept) : undefined,
    };
  }

  /**
   * What was recorded since `sinceMs` (a previous read's `readAtMs`; everything of the last `keepMs` when undefined).
   * tokensValidAfter is scored with the writing instance's clock, so it is read `overlapMs` further back.
   */
  async load(options: { sinceMs?: number; keepMs: number; overlapMs: number }): Promise<Revocations> {
    const [sessions, validAfter, kept, now] = await this.redis.authRevocationLoad(
      ...this.revocationKeys(),
      options.sinceMs ?? '',
      options.keepMs,
      options.overlapMs,
    );
    return { sessions: pairs(sessions), validAfter: pairs(validAfter), kept: pairs(kept), readAtMs: Number(now) };
  }

  private sessionKeys(userId: string, sessionId: string): [string, string, string] {
    const prefix = this.redisOptions.prefix;
    return [sessionKeys.session(prefix, userId, sessionId), sessionKeys.used(prefix, userId, sessionId), sessionKeys.userSessions(prefix, userId)];
  }

  private revocationKeys(): [string, string, string] {
    const prefix = this.redisOptions.prefix;
    return [sessionKeys.revokedSessions(prefix), sessionKeys.tokensValidAfter(prefix), sessionKeys.tokensValidAfterKept(prefix)];
  }
}

/** WITHSCORES replies: member, score, member, score... */
function pairs(flat: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i], Number(flat[i + 1]));
  return map;
}
