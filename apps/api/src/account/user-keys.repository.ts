import { Inject, Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { RedisClient, RedisConnection, userKeyPrefix } from '@app/common';
import { redisConfig, RedisConfig } from '@app/config';

const SCAN_COUNT = 1000;

/**
 * Everything under one user's hash tag (`<prefix>:{u:<userId>}:*`: notification stream and cursor, once-markers,
 * idempotency claims, sessions, webhook state...), whichever lib wrote it. An account's deletion sweeps it last, so
 * a key a lib forgot, or one added later, goes too.
 */
@Injectable()
export class UserKeysRepository {
  constructor(
    @Inject(RedisConnection) private readonly redis: RedisConnection,
    @Inject(redisConfig.KEY) private readonly config: RedisConfig,
  ) {}

  /** Deletes every key under the user's hash tag; returns how many. On a cluster they all live on one master, found by scanning each. */
  async deleteAll(userId: string): Promise<number> {
    const match = `${escapeGlob(userKeyPrefix(this.config.prefix, userId))}:*`;
    const nodes: RedisClient[] = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
        // Through the client, not the node: on a cluster it routes them (one slot: the user's tag).
        if (keys.length > 0) deleted += await this.redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    return deleted;
  }
}

/** SCAN's MATCH is a glob: the prefix's own characters are literal. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
