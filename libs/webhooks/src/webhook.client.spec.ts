import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { MAX_RESPONSE_BYTES, sendWebhook } from './webhook.client';

/** Real HTTP on loopback (private targets allowed, as in development). */
describe(sendWebhook.name, () => {
  let server: Server;
  let base: string;
  let handler: (request: IncomingMessage, response: ServerResponse) => void;
  const received: { url?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const options = { allowPrivate: true, httpsOnly: false, timeoutMs: 1000 };

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ url: request.url, headers: request.headers, body });
        handler(request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (received.length = 0));

  it('POSTs the body as JSON with the given headers', async () => {
    handler = (_request, response) => response.writeHead(204).end();
    const response = await sendWebhook({ url: `${base}/hook`, headers: { 'webhook-id': 'msg_1' }, body: '{"a":1}' }, options);
    expect(response).toMatchObject({ statusCode: 204, responseBytes: 0 });
    expect(received).toEqual([{ url: '/hook', headers: expect.objectContaining({ 'webhook-id': 'msg_1', 'content-type': 'application/json' }), body: '{"a":1}' }]);
  });

  it('does not follow a redirect', async () => {
    handler = (request, response) => (request.url === '/hook' ? response.writeHead(302, { location: `${base}/elsewhere` }).end() : response.end('followed'));
    const response = await sendWebhook({ url: `${base}/hook`, headers: {}, body: '{}' }, options);
    expect(response.statusCode).toBe(302);
    expect(received.map((request) => request.url)).toEqual(['/hook']);
  });

  it('reads at most 64 kB of an endless answer and drops the connection', async () => {
    handler = (_request, response) => {
      response.writeHead(200);
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    };
    const started = Date.now();
    const response = await sendWebhook({ url: `${base}/hook`, headers: {}, body: '{}' }, { ...options, timeoutMs: 5000 });
    expect(response).toMatchObject({ statusCode: 200, truncated: true, responseBytes: MAX_RESPONSE_BYTES });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives up after the timeout', async () => {
    handler = () => undefined;
    const response = await sendWebhook({ url: `${base}/hook`, headers: {}, body: '{}' }, { ...options, timeoutMs: 300 });
    expect(response).toMatchObject({ failure: 'timeout', error: 'no answer within 300 ms' });
    expect(response.latencyMs).toBeGreaterThanOrEqual(290);
  });

  it('reports Retry-After and connection errors', async () => {
    handler = (_request, response) => response.writeHead(429, { 'retry-after': '7' }).end();
    expect(await sendWebhook({ url: `${base}/hook`, headers: {}, body: '{}' }, options)).toMatchObject({ statusCode: 429, retryAfterMs: 7000 });
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    expect(await sendWebhook({ url: `http://127.0.0.1:${closedPort}/`, headers: {}, body: '{}' }, options)).toMatchObject({ failure: 'connection', error: 'connection failed: ECONNREFUSED' });
  });
});
