import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, ROOT, stopProcess, waitForPort } from '../scripts/services';
import { http } from './support/api';
import { testEnv } from './support/test-env';
import { waitFor } from './support/worker';

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
    const me = await http(url, 'GET', '/auth/me', { token });
    await http(url, 'GET', `/auth/me?token=${token}`);
    // The API logs a request's completion after answering: wait for the last request's line, whole.
    await waitFor(async () => (/"url":"\/auth\/me\?token=\[redacted\]".*"request completed".*\n/.test(output) ? true : undefined), 'the last request to be logged');

    const lines = output.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    // Every line of a request carries the id of its X-Request-Id: the caller's, or the one generated for it.
    const requestLines = lines.map((line) => JSON.parse(line)).filter((entry) => entry.req?.id !== undefined);
    const idsOf = (url: string) => new Set(requestLines.filter((entry) => entry.req.url === url).map((entry) => entry.req.id));
    expect(idsOf('/auth/register')).toEqual(new Set(['trace-me-123']));
    const generated = me.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(idsOf('/auth/me')).toEqual(new Set([generated]));
    expect(output).not.toContain(password);
    expect(output).not.toContain('wrong-password-xyz');
    expect(output).not.toContain(token);
    expect(output).not.toContain(token.split('.')[2]);
    expect(output).not.toMatch(/\$2[aby]\$\d\d\$/);
  });
});
