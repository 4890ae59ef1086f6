import helmet from '@fastify/helmet';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

/** The API answers JSON only: nothing in it may run, load anything or be framed. */
const API_CSP = { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] };

/** Swagger UI: scripts and stylesheets from its own folder, inline styles and data: icons in its page. */
const DOCS_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Bull Board (/admin/queues): its scripts and styles, inline styles, the UI's web fonts, its API calls to itself. */
const BOARD_CSP = {
  ...DOCS_CSP,
  styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
  fontSrc: ["'self'", 'https://fonts.gstatic.com', 'data:'],
  connectSrc: ["'self'"],
};

/**
 * helmet's headers on every answer (nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer, a
 * CSP; HSTS only in production, where TLS is in front), and `Cache-Control: no-store`: answers are
 * per user or live state (and register/login carry a token), never for a shared cache. Call it
 * before Swagger's and the board's routes exist, so they get their policies.
 */
export async function addSecurityHeaders(app: NestFastifyApplication, options: { isProduction: boolean; docsPath: string; boardPath: string }): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const docs = `/${options.docsPath}`;
  // Added before helmet's own onRoute hook, which turns `route.helmet` into the route's settings.
  fastify.addHook('onRoute', (route) => {
    if (route.url === docs || route.url.startsWith(`${docs}/`)) {
      route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } };
    } else if (route.url === options.boardPath || route.url.startsWith(`${options.boardPath}/`)) {
      route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: BOARD_CSP } };
    }
  });
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    ...(options.isProduction ? { strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true } } : { strictTransportSecurity: false }),
  });
  // Static files (Swagger UI's assets) set their own Cache-Control, which replaces this one.
  fastify.addHook('onRequest', async (_request, reply) => {
    void reply.header('Cache-Control', 'no-store');
  });
}
