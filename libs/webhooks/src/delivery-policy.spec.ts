import { judgeAttempt, MAX_BACKOFF_MS, retryDelayMs, RetryDeliveryError, webhookBackoff } from './delivery-policy';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from './webhook.client';

describe('delivery-policy', () => {
  describe(judgeAttempt.name, () => {
    it.each([
      [{ statusCode: 200 }, 'delivered'],
      [{ statusCode: 204 }, 'delivered'],
      [{ statusCode: 500 }, 'retryable'],
      [{ statusCode: 503 }, 'retryable'],
      [{ statusCode: 429 }, 'retryable'],
      [{ statusCode: 408 }, 'retryable'],
      [{ failure: 'timeout' as const, error: 'no answer within 10000 ms' }, 'retryable'],
      [{ failure: 'connection' as const, error: 'connection failed: ECONNREFUSED' }, 'retryable'],
      [{ failure: 'refused' as const, error: 'url resolves to a loopback address' }, 'permanent'],
      [{ statusCode: 400 }, 'permanent'],
      [{ statusCode: 401 }, 'permanent'],
      [{ statusCode: 404 }, 'permanent'],
      [{ statusCode: 410 }, 'permanent'],
      [{ statusCode: 302 }, 'permanent'],
      [{ statusCode: 301 }, 'permanent'],
    ])('%j → %s', (response, kind) => {
      expect(judgeAttempt({ latencyMs: 1, ...response }).kind).toBe(kind);
    });

    it('says a redirect was not followed', () => {
      expect(judgeAttempt({ latencyMs: 1, statusCode: 302 })).toEqual({ kind: 'permanent', reason: 'HTTP 302 (redirects are not followed)' });
    });
  });

  describe(retryDelayMs.name, () => {
    it('doubles from the base with each failed attempt, up to a cap', () => {
      expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelayMs(attempt, 1000))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000]);
      expect(retryDelayMs(40, 1000)).toBe(MAX_BACKOFF_MS);
    });

    it("takes the endpoint's Retry-After when longer than the backoff, never shorter (Retry-After: 0 is no instant retry)", () => {
      expect(retryDelayMs(1, 1000, 2000)).toBe(2000);
      expect(retryDelayMs(5, 1000, 2000)).toBe(16_000);
      expect(retryDelayMs(1, 1000, 30_000)).toBe(30_000);
      expect(retryDelayMs(1, 1000, 0)).toBe(1000);
      expect(retryDelayMs(3, 1000, 0)).toBe(4000);
      expect(retryDelayMs(1, 1000, MAX_BACKOFF_MS * 2)).toBe(MAX_BACKOFF_MS);
    });
  });

  describe(parseRetryAfter.name, () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    it('reads seconds and HTTP dates, capped', () => {
      expect(parseRetryAfter('2', now)).toBe(2000);
      expect(parseRetryAfter(' 0 ', now)).toBe(0);
      expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
      expect(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', now)).toBe(0);
      expect(parseRetryAfter('999999', now)).toBe(MAX_RETRY_AFTER_MS);
      expect(parseRetryAfter(['3', '4'], now)).toBe(3000);
    });
    it('ignores absent or unreadable values', () => {
      expect(parseRetryAfter(undefined, now)).toBeUndefined();
      expect(parseRetryAfter('', now)).toBeUndefined();
      expect(parseRetryAfter('soon', now)).toBeUndefined();
      expect(parseRetryAfter('-5', now)).toBeUndefined();
    });
  });

  describe(webhookBackoff.name, () => {
    it("waits what the failed attempt chose, or doubles from 1 s after an unexpected error", () => {
      expect(webhookBackoff(3, 'webhook', new RetryDeliveryError(1234, 'HTTP 429'))).toBe(1234);
      expect(webhookBackoff(3, 'webhook', new Error('database down'))).toBe(4000);
    });
  });
});
