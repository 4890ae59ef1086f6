import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, stopProcess } from '../../scripts/services';
import { waitFor } from '@app/testing';
import { Env } from './test-env';

// Specs import the polling helper from here too.
export { waitFor };

export interface RunningWorker {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** The worker as production runs it: its own Node process from the compiled dist (built by global setup). */
export async function startWorker(env: Env, timeoutMs = 20_000): Promise<RunningWorker> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/worker/src/main.js')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const worker = { child, output: () => output, stop: (signal: NodeJS.Signals = 'SIGTERM') => stopProcess(child, signal, 15_000) };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output}`);
        return output.includes('Worker started') ? true : undefined;
      },
      () => `the worker to start within ${timeoutMs} ms:\n${output}`,
      timeoutMs,
    );
  } catch (error) {
    await worker.stop('SIGKILL');
    throw error;
  }
  return worker;
}
