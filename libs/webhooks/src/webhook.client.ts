import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { hostOf, guardedLookup, RefusedTargetError, refusedAddress, Resolve, systemResolve, TargetPolicy, urlProblem } from './ssrf-guard';

/** At most this much of an answer is read; the connection is dropped after it. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** A Retry-After longer than this is cut to it. */
export const MAX_RETRY_AFTER_MS = 3_600_000;
/** Token for the resolver the client checks addresses with (a fake one in tests). */
export const WEBHOOK_RESOLVER = Symbol('WEBHOOK_RESOLVER');

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookResponse {
  /** Absent when no answer came (timeout, connection error, refused target). */
  statusCode?: number;
  latencyMs: number;
  /** What went wrong, short and safe to show the endpoint's owner. */
  error?: string;
  /** Why no answer came; `refused` = the target failed the SSRF check at connect time. */
  failure?: 'timeout' | 'connection' | 'refused';
  /** The endpoint's Retry-After, in ms. */
  retryAfterMs?: number;
  /** Bytes of the answer read (at most MAX_RESPONSE_BYTES). */
  responseBytes?: number;
  /** The answer was longer than MAX_RESPONSE_BYTES and cut. */
  truncated?: boolean;
}

export interface SendOptions extends TargetPolicy {
  timeoutMs: number;
  resolve?: Resolve;
}

/**
 * One POST to a webhook endpoint: the target is checked again at connect time (every address the name
 * resolves to), redirects are not followed, the whole exchange is bounded by `timeoutMs` and the answer
 * is read up to MAX_RESPONSE_BYTES. Never rejects: every outcome is a WebhookResponse.
 */
export function sendWebhook(req: WebhookRequest, options: SendOptions): Promise<WebhookResponse> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const problem = urlProblem(req.url, options);
  if (problem) return Promise.resolve({ latencyMs: 0, error: problem, failure: 'refused' });
  const url = new URL(req.url);
  const host = hostOf(url);
  // Node skips `lookup` for an address literal: check it here.
  const literalProblem = isIP(host) ? refusedAddress(host, options) : undefined;
  if (literalProblem) return Promise.resolve({ latencyMs: 0, error: literalProblem, failure: 'refused' });

  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    const finish = (response: WebhookResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(response);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: 'POST',
      headers: { ...req.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(req.body)), 'user-agent': 'aicg-webhooks/1' },
      lookup: guardedLookup(options, options.resolve ?? systemResolve) as never,
      // A fresh connection per delivery: a pooled one may have been opened to an address resolved earlier.
      agent: false,
    });
    const partial: Partial<WebhookResponse> = {};
    const timer = setTimeout(() => {
      request.destroy(new Error('timeout'));
      finish({ latencyMs: elapsed(), error: `no answer within ${options.timeoutMs} ms`, failure: 'timeout', ...partial });
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof RefusedTargetError || error.code === 'EWEBHOOKTARGET') finish({ latencyMs: elapsed(), error: error.message, failure: 'refused' });
      else finish({ latencyMs: elapsed(), error: `connection failed: ${error.code ?? error.message}`, failure: 'connection', ...partial });
    });
    request.on('response', (response: IncomingMessage) => {
      const statusCode = response.statusCode ?? 0;
      Object.assign(partial, { statusCode, retryAfterMs: parseRetryAfter(response.headers['retry-after']) });
      const latencyMs = elapsed();
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_RESPONSE_BYTES) {
          // Enough: an endless answer must not hold the worker.
          response.destroy();
          request.destroy();
          finish({ statusCode, latencyMs, retryAfterMs: partial.retryAfterMs, responseBytes: MAX_RESPONSE_BYTES, truncated: true });
        }
      });
      response.on('end', () => finish({ statusCode, latencyMs, retryAfterMs: partial.retryAfterMs, responseBytes: bytes }));
      response.on('error', () => finish({ statusCode, latencyMs, retryAfterMs: partial.retryAfterMs, responseBytes: Math.min(bytes, MAX_RESPONSE_BYTES) }));
      response.on('close', () => finish({ statusCode, latencyMs, retryAfterMs: partial.retryAfterMs, responseBytes: Math.min(bytes, MAX_RESPONSE_BYTES) }));
    });
    request.end(req.body);
  });
}

/** Retry-After as seconds or an HTTP date, in ms from now (at most MAX_RETRY_AFTER_MS); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP date has a weekday and month name; Date.parse alone would take '-5' for a year.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(date - now, 0), MAX_RETRY_AFTER_MS);
}

/** The one way out to webhook endpoints (sendWebhook with the process's resolver). */
@Injectable()
export class WebhookClient {
  readonly resolve: Resolve;

  constructor(@Optional() @Inject(WEBHOOK_RESOLVER) resolve?: Resolve) {
    this.resolve = resolve ?? systemResolve;
  }

  send(req: WebhookRequest, options: Omit<SendOptions, 'resolve'>): Promise<WebhookResponse> {
    return sendWebhook(req, { ...options, resolve: this.resolve });
  }
}
