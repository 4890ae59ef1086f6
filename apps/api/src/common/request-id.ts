import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyRequest } from 'fastify';
import { annotateRequestSpan } from '@app/tracing';

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
      annotateRequestSpan(request.id, request.method, request.routeOptions.url);
    });
}

/** The request's id (its X-Request-Id) as a handler parameter: it becomes the correlation id of what the request starts. */
export const RequestId = createParamDecorator((_data: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<FastifyRequest>().id);
