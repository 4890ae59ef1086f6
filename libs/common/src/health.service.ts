import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { Connection } from 'mongoose';
import { RedisConnection } from './redis.connection';

const CHECK_TIMEOUT_MS = 1500;

export type DependencyState = 'up' | 'down';

export interface DependencyHealth {
  mongodb: DependencyState;
  redis: DependencyState;
}

/** Whether MongoDB and Redis answer a ping; a check that hangs counts as down after 1.5 s. */
@Injectable()
export class HealthService {
  constructor(
    @InjectConnection() private readonly mongo: Connection,
    @Inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  async check(): Promise<DependencyHealth> {
    const [mongodb, redis] = await Promise.all([stateOf(() => this.mongo.db!.admin().ping()), stateOf(() => this.redis.ping())]);
    return { mongodb, redis };
  }
}

async function stateOf(probe: () => Promise<unknown>): Promise<DependencyState> {
  try {
    await withTimeout(probe());
    return 'up';
  } catch {
    return 'down';
  }
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()),
  ]);
}
