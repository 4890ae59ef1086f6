import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { defineScripts, DomainError, RedisClient, RedisConnection } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';
import { jobKeys } from './job-keys';

/** A claim lives a day: clients retry within minutes; older keys still meet the records' unique index. */
const CLAIM_TTL_MS = 24 * 3600_000;

/** Returns the existing claim, or claims the key and returns nil. ARGV: value, ttl. */
const CLAIM = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

/** Deletes the claim only if it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface IdempotencyCommands {
  jobIdempotencyClaim(key: string, value: string, ttlMs: number): Promise<string | null>;
  jobIdempotencyRelease(key: string, value: string): Promise<number>;
}

/** Who holds an Idempotency-Key: the job it created and a fingerprint of the request that created it. */
export interface IdempotencyClaim {
  jobId: string;
  fingerprint: string;
}

/** Idempotency-Key claims, atomic in Redis: of two racing requests with one key exactly one creates a job. */
@Injectable()
export class IdempotencyRepository {
  private readonly redis: RedisClient & IdempotencyCommands;

  constructor(@Inject(RedisConnection) redis: RedisConnection, @Inject(redisConfig.KEY) private readonly redisOptions: RedisConfig) {
    this.redis = defineScripts<IdempotencyCommands>(redis, {
      jobIdempotencyClaim: { keys: 1, lua: CLAIM },
      jobIdempotencyRelease: { keys: 1, lua: RELEASE },
    });
  }

  /** Claims the key for `claim`; returns the earlier claim when there is one. */
  async claim(userId: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyClaim | undefined> {
    const existing = await this.redis.jobIdempotencyClaim(this.key(userId, key), encode(claim), CLAIM_TTL_MS);
    if (!existing) return undefined;
    const [jobId, fingerprint] = existing.split(' ');
    return { jobId, fingerprint };
  }

  /** Gives the key up again (the job it was for was never queued). */
  async release(userId: string, key: string, claim: IdempotencyClaim): Promise<void> {
    await this.redis.jobIdempotencyRelease(this.key(userId, key), encode(claim));
  }

  private key(userId: string, key: string): string {
    return jobKeys.idempotency(this.redisOptions.prefix, userId, key);
  }
}

function encode(claim: IdempotencyClaim): string {
  return `${claim.jobId} ${claim.fingerprint}`;
}

const IDEMPOTENCY_KEY = /^[\w.:-]{1,128}$/;
/** How long a retried request waits for the first one with its key to write what it created. */
const CLAIM_WAIT_MS = 3000;
const CLAIM_POLL_MS = 100;

/** The Idempotency-Key header, checked: 1-128 letters, digits or `._:-`, else a 400 naming it. */
export function checkedIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new DomainError('INVALID_ARGUMENT', 'Idempotency-Key must be 1-128 letters, digits or ._:-', {
      details: [{ field: 'Idempotency-Key', errors: ['must be 1-128 letters, digits or ._:-'] }],
    });
  }
  return key;
}

export function idempotencyConflict(): DomainError {
  return new DomainError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was used for a different request');
}

/**
 * A retried request whose key is claimed: a different request is a 422; the same one gets what the first
 * created, once `find` sees it (the first request may still be writing it), or a 409 after CLAIM_WAIT_MS.
 */
export async function replayed<T>(mine: IdempotencyClaim, earlier: IdempotencyClaim, find: () => Promise<T | undefined>): Promise<T> {
  if (earlier.fingerprint !== mine.fingerprint) throw idempotencyConflict();
  for (let waited = 0; waited <= CLAIM_WAIT_MS; waited += CLAIM_POLL_MS) {
    const created = await find();
    if (created !== undefined) return created;
    await sleep(CLAIM_POLL_MS);
  }
  throw new DomainError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly');
}
