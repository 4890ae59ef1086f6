import { ChildProcess } from 'node:child_process';

export const ROOT: string;
export function buildFerretDb(log?: (message: string) => void): string;
export function freePort(): Promise<number>;
export function portAnswers(port: number, host?: string, timeoutMs?: number): Promise<boolean>;
export function waitForPort(port: number, options?: { timeoutMs?: number; child?: ChildProcess }): Promise<void>;
export function startFerretDb(options?: {
  port?: number;
  dataDir?: string;
  handler?: 'sqlite' | 'postgresql';
  postgresUrl?: string;
  stdio?: 'ignore' | 'inherit';
}): Promise<{ child: ChildProcess; port: number; uri: string }>;
export function startRedis(options: { port: number; dataDir: string }): Promise<ChildProcess>;
export function stopProcess(child: ChildProcess | undefined, signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
export function hasBinary(name: string): boolean;
