import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Fastify's `genReqId`: the caller's X-Request-Id when it is sane, else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Returns each request's id in X-Request-Id and leaves it on the raw request too, so the logger (which
 * sees the raw request) puts the same id on every line of the request.
 */
export function assignRequestIds(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      (request.raw as IncomingMessage & { id?: string }).id = request.id;
      void reply.header('X-Request-Id', request.id);
    });
}
