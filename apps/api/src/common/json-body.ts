import { BadRequestException } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { errorCodes } from 'fastify';

/** Far deeper than any DTO; Nest's pipe and class-validator recurse, and 10,000 levels overflow the stack. */
const MAX_JSON_DEPTH = 32;

/** Routes that also take a text/csv body (handed over as the raw string); everywhere else text/csv is 415. */
export const CSV_BODY_ROUTES: ReadonlySet<string> = new Set(['/generate-content/batch']);
/** A batch (100 items of up to 4,000-character prompts) outgrows the 100 KiB of other routes. */
export const BATCH_BODY_LIMIT_BYTES = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Makes application/json the only body Fastify parses (and text/csv, as a raw string, on CSV_BODY_ROUTES
 * only), so any other content type sent with a body is answered 415 (Fastify's answer when no parser
 * matches). Requests without a body are untouched.
 * Needs the app created with `bodyParser: false`, else Nest adds its JSON and form parsers at init.
 */
export function acceptJsonBodiesOnly(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // The route's own limit governs every parser on it (Fastify reads at most that much of any body).
  fastify.addHook('onRoute', (route) => {
    if (CSV_BODY_ROUTES.has(route.url)) route.bodyLimit = BATCH_BODY_LIMIT_BYTES;
  });
  fastify.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, text, done) => {
    if (!CSV_BODY_ROUTES.has(request.routeOptions.url ?? '')) done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
    else done(null, text);
  });
}

function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new BadRequestException("Body cannot be empty when content-type is set to 'application/json'");
  // Counted on the text, before parsing: a deep body costs one pass and no allocation.
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) throw new BadRequestException(`Body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestException("Body is not valid JSON but content-type is set to 'application/json'");
  }
}

/** Brackets outside strings; exact for valid JSON, and invalid JSON fails to parse anyway. */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) i++;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
