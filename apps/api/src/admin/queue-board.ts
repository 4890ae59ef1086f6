import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { AppControllerRoute, BullBoardRequest, ControllerHandlerReturnType } from '@bull-board/api/typings/app';
import { FastifyAdapter } from '@bull-board/fastify';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminSessionService, AuthService, AuthUser } from '@app/auth';
import { bearerToken, DomainError } from '@app/common';
import { QueueBoardService } from '@app/jobs';
import { DomainErrorFilter } from '../common/domain-error.filter';
import { adminSessionOf } from './admin-session-cookie';
import { registerQueueBoardLogin } from './queue-board-login';

export const QUEUE_BOARD_PATH = '/admin/queues';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const errors = new DomainErrorFilter();
const SIGN_IN_FIRST = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body><p>Admins only: <a href="${QUEUE_BOARD_PATH}/login">sign in</a>.</p></body></html>`;

/**
 * Bull Board at /admin/queues for admins: the session cookie of POST /admin/session (browsers) or an
 * admin's bearer token (scripts), checked on every request, page, API and static file alike; the
 * sign-in page at /admin/queues/login opens the session from email and password.
 */
export async function registerQueueBoard(app: NestFastifyApplication): Promise<void> {
  const board = app.get(QueueBoardService);
  const sessions = app.get(AdminSessionService);
  const auth = app.get(AuthService);

  const serverAdapter = new GuardedQueueBoardAdapter(board).setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: board.queues().map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'AI Content Generator queues' } },
  });
  await app.register(
    async (scope: FastifyInstance) => {
      scope.addHook('onRequest', async (request, reply) => {
        const refused = await refusal(request, sessions, auth);
        if (!refused) return;
        void reply.code(refused.statusCode).header('Cache-Control', 'no-store');
        // A person opening the board without a session is pointed to the sign-in page.
        if (refused.statusCode === 401 && request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) return reply.type('text/html; charset=utf-8').send(SIGN_IN_FIRST);
        return reply.send(refused);
      });
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: QUEUE_BOARD_PATH },
  );
  registerQueueBoardLogin(app, QUEUE_BOARD_PATH);
}

/** Why the request may not reach the board (401 anonymous, 403 not an admin or cross-site), or undefined. */
async function refusal(request: FastifyRequest, sessions: AdminSessionService, auth: AuthService): Promise<ReturnType<DomainErrorFilter['toBody']> | undefined> {
  try {
    const token = bearerToken(request.headers.authorization);
    const cookie = adminSessionOf(request.headers.cookie);
    let user: AuthUser;
    if (token) {
      user = await auth.verifyToken(token);
    } else if (cookie) {
      user = await sessions.verify(cookie);
      // The cookie rides along on any request the browser makes: state changes only from the board's own pages.
      if (!SAFE_METHODS.has(request.method) && !isSameOrigin(request)) throw new DomainError('FORBIDDEN', 'Cross-site request refused');
    } else {
      throw new DomainError('UNAUTHENTICATED', 'Sign in: POST /admin/session with an admin bearer token sets the cookie');
    }
    if (user.role !== 'admin') throw new DomainError('FORBIDDEN', 'Admins only');
    return undefined;
  } catch (error) {
    return errors.toBody(error);
  }
}

/** Sec-Fetch-Site when the browser sends it, else Origin against this server's own origin; neither is refused. */
function isSameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = request.headers.origin;
  return typeof origin === 'string' && origin === `${request.protocol}://${request.host}`;
}

type Handler = AppControllerRoute['handler'];
type BoardRequest = BullBoardRequest | undefined;

/** Writes on a guarded queue that raw BullMQ would do behind the product's back. */
const REFUSED_ON_GUARDED = new Set(['post /api/queues/:queueName/add', 'patch /api/queues/:queueName/:jobId/update-data', 'put /api/queues/:queueName/empty', 'put /api/queues/:queueName/obliterate']);

/**
 * Bull Board's Fastify adapter with the generation queue's retries sent through the product's retry
 * (record, ledger, slot, as POST /admin/jobs/:jobId/retry) and the writes that would bypass it refused.
 */
class GuardedQueueBoardAdapter extends FastifyAdapter {
  constructor(private readonly board: QueueBoardService) {
    super();
  }

  override setApiRoutes(routes: AppControllerRoute[]): FastifyAdapter {
    return super.setApiRoutes(routes.map((route) => ({ ...route, handler: this.guard(route) })));
  }

  private guard(route: AppControllerRoute): Handler {
    const method = String(Array.isArray(route.method) ? route.method[0] : route.method).toLowerCase();
    const key = `${method} ${String(Array.isArray(route.route) ? route.route[0] : route.route)}`;
    const original: Handler = (request) => route.handler(request);
    const guarded = (request: BoardRequest) => request !== undefined && this.board.isGuarded(String(request.params.queueName));
    if (key === 'put /api/queues/:queueName/:jobId/retry') {
      return async (request) => (guarded(request) ? answer(() => this.board.retryGeneration(String(request!.params.jobId)), { status: 204, body: {} }) : original(request));
    }
    if (key === 'put /api/queues/:queueName/retry/:queueStatus') {
      return async (request) => {
        if (!guarded(request)) return original(request);
        if (request!.params.queueStatus !== 'failed') return readOnly();
        return answer(async () => ({ status: 200, body: await this.board.retryAllFailedGenerations() }));
      };
    }
    if (REFUSED_ON_GUARDED.has(key)) return async (request) => (guarded(request) ? readOnly() : original(request));
    return original;
  }
}

function readOnly(): ControllerHandlerReturnType<never> {
  return { status: 405, body: { error: { key: 'ERRORS.QUEUE_READ_ONLY' } } } as ControllerHandlerReturnType<never>;
}

/** The board's error shape with our status and message (409 when the job is not failed, 429 at the owner's cap, ...). */
async function answer(run: () => Promise<unknown>, done?: ControllerHandlerReturnType): Promise<never> {
  try {
    const result = await run();
    return (done ?? result) as never;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const body = errors.toBody(error);
    const key = body.statusCode === 404 ? 'ERRORS.JOB_NOT_FOUND' : 'ERRORS.JOB_NOT_RETRIABLE';
    const state = (body as { currentStatus?: string }).currentStatus ?? body.error;
    return { status: body.statusCode, body: { error: { key, options: { state } }, message: body.message } } as never;
  }
}
