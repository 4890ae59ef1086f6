import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, ROOT, stopProcess, waitForPort } from '../scripts/services';
import { http } from './support/api';
import { testEnv } from './support/test-env';

describe('Logs', () => {
  let child: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    // The API as production runs it, logging everything it can, so the check covers every log line.
    child = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
      env: { ...process.env, ...testEnv('logging'), PORT: String(port), LOG_LEVEL: 'trace' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForPort(port, { child });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => stopProcess(child));

  it('are JSON lines with a request id and never contain a password, hash or token', async () => {
    const password = 'secret-password-in-body';
    const registered = await http(url, 'POST', '/auth/register', { body: { name: 'Log', email: 'log@example.com', password }, headers: { 'x-request-id': 'trace-me-123' } });
    expect(registered.status).toBe(201);
    expect(registered.headers.get('x-request-id')).toBe('trace-me-123');
    const token = registered.body.token as string;
    await http(url, 'POST', '/auth/login', { body: { email: 'log@example.com', password } });
    await http(url, 'POST', '/auth/login', { body: { email: 'log@example.com', password: 'wrong-password-xyz' } });
    await http(url, 'GET', '/auth/me', { token });
    await http(url, 'GET', `/auth/me?token=${token}`);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const lines = output.trim().split('\n');
    expect(lines.filter((line) => line.includes('trace-me-123')).length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(output).not.toContain(password);
    expect(output).not.toContain('wrong-password-xyz');
    expect(output).not.toContain(token);
    expect(output).not.toContain(token.split('.')[2]);
    expect(output).not.toMatch(/\$2[aby]\$\d\d\$/);
  });
});
