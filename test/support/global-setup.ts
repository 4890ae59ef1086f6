import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ROOT, startFerretDb } from '../../scripts/services';

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
  process.env.TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.env.TEST_REDIS_PREFIX = `{aicg-test-${randomBytes(4).toString('hex')}}`;
}
