import { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import Redis from 'ioredis';
import { stopProcess } from '../../scripts/services';

/** Stops the suite's FerretDB and deletes its data and every Redis key under the suite's prefix. */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis as unknown as { __ferretdb?: { child: ChildProcess }; __redis?: ChildProcess; __tempDir?: string };
  await stopProcess(state.__ferretdb?.child);
  const redis = new Redis(process.env.TEST_REDIS_URL!);
  try {
    const stream = redis.scanStream({ match: `${process.env.TEST_REDIS_PREFIX}*`, count: 1000 });
    for await (const keys of stream) if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
  } finally {
    redis.disconnect();
    await stopProcess(state.__redis);
    if (state.__tempDir) rmSync(state.__tempDir, { recursive: true, force: true });
  }
}
