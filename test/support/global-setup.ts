import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, hasBinary, portAnswers, ROOT, startFerretDb, startRedis } from '../../scripts/services';

/**
 * Once per `npm test`: compile the apps (tests run the worker as its own process), start a FerretDB
 * of the suite's own on a free port, and pick a Redis key prefix no one else uses.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync(join(ROOT, 'node_modules', '.bin', 'swc'), ['apps', 'libs', '-d', 'dist', '--config-file', '.swcrc', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  // Everything the suite writes to disk lives under one folder that teardown removes.
  const tempDir = mkdtempSync(join(tmpdir(), 'aicg-test-'));
  const ferretdb = await startFerretDb({ dataDir: join(tempDir, 'ferretdb') });
  Object.assign(globalThis, { __ferretdb: ferretdb, __tempDir: tempDir });
  process.env.TEST_TMP_DIR = tempDir;
  process.env.TEST_MONGO_URI = ferretdb.uri;
  process.env.TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? (await localRedis(tempDir));
  process.env.TEST_REDIS_PREFIX = `{aicg-test-${randomBytes(4).toString('hex')}}`;
}

/** The machine's Redis on 6379, or one of the suite's own when none answers (removed with the temp folder). */
async function localRedis(tempDir: string): Promise<string> {
  if (await portAnswers(6379)) return 'redis://127.0.0.1:6379';
  if (!hasBinary('redis-server')) throw new Error('Tests need Redis: start one on 127.0.0.1:6379, install redis-server, or set TEST_REDIS_URL');
  const port = await freePort();
  Object.assign(globalThis, { __redis: await startRedis({ port, dataDir: join(tempDir, 'redis') }) });
  return `redis://127.0.0.1:${port}`;
}
