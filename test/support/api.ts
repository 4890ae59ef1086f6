import { waitFor } from '@app/testing';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApiApp } from '../../apps/api/src/create-app';
import { applyEnv, Env } from './test-env';

export interface RunningApi {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

/** The real API (same modules, adapter and setup as main.ts) listening on a free port. */
export async function startApi(env: Env): Promise<RunningApi> {
  const restore = applyEnv(env);
  try {
    const app = await createApiApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as { port: number };
    return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
  } finally {
    restore();
  }
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** fetch with JSON in and out; `token` becomes a bearer Authorization header. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

let counter = 0;
/** Registers a fresh user and returns its token and id. */
export async function registerUser(base: string, name = 'User'): Promise<{ token: string; id: string; email: string; password: string }> {
  const email = `user${Date.now()}${counter++}${Math.random().toString(36).slice(2, 6)}@example.com`;
  const password = 'a-long-enough-password';
  const response = await http(base, 'POST', '/auth/register', { body: { name, email, password } });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { token: response.body.token, id: response.body._id, email, password };
}

/** The caller's job once its status is one of `statuses` (polled over HTTP). */
export function jobWhen<T = any>(base: string, token: string, jobId: string, statuses: string[], timeoutMs = 20_000): Promise<T> {
  return waitFor(
    async () => {
      const job = (await http(base, 'GET', `/generate-content/${jobId}`, { token })).body;
      return statuses.includes(job?.status) ? job : undefined;
    },
    `job ${jobId} to be ${statuses.join(' or ')}`,
    timeoutMs,
  );
}
