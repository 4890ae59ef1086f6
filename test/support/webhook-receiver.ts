import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Answer = (request: Received, response: ServerResponse) => void;

/** A real HTTP receiver on 127.0.0.1 that records every request and answers as the test scripts it. */
export class WebhookReceiver {
  readonly requests: Received[] = [];
  answer: Answer = (_request, response) => response.writeHead(204).end();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const received = { path: request.url ?? '', headers: request.headers, body, at: Date.now() };
        this.requests.push(received);
        this.answer(received, response);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
