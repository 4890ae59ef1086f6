import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort, hasBinary, stopProcess, waitForPort } from '../../scripts/services';
import { waitFor } from './worker';

const run = promisify(execFile);

export interface RedisCluster {
  /** `REDIS_CLUSTER_NODES` for the stack. */
  nodes: string;
  ports: number[];
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of `masters` masters (no replicas) on free ports: `redis-server --cluster-enabled yes`
 * joined with `redis-cli --cluster create`, removed with its files by `stop()`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  if (!hasBinary('redis-server') || !hasBinary('redis-cli')) throw new Error('The Redis Cluster test needs redis-server and redis-cli (Debian: apt-get install redis-server)');
  const dir = mkdtempSync(join(process.env.TEST_TMP_DIR!, 'redis-cluster-'));
  const servers: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => stopProcess(server, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--dir', nodeDir];
      const server = spawn('redis-server', [...args, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      servers.push(server);
      await waitForPort(port, { child: server });
      ports.push(port);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor(async () => ((await Promise.all(ports.map(clusterIsOk))).every(Boolean) ? true : undefined), 'the cluster to agree on its slots');
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => `127.0.0.1:${port}`).join(','), ports, stop };
}

async function clusterIsOk(port: number): Promise<boolean> {
  const node = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await node.connect();
    return /cluster_state:ok/.test(await node.cluster('INFO'));
  } finally {
    node.disconnect();
  }
}
