import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when it is sane, else a UUID), returns it in
 * X-Request-Id and leaves it on the raw request, where the logger picks it up for every line.
 */
export function assignRequestIds(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      const given = request.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      (request.raw as IncomingMessage & { id?: string }).id = id;
      void reply.header('X-Request-Id', id);
    });
}
