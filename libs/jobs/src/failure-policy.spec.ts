import { LlmBadRequestError, LlmPaymentRequiredError, LlmRateLimitError, LlmServerError } from '@app/llm';
import { ABORT_CANCELLED, ABORT_LOCK_LOST, ABORT_SHUTDOWN, decideFailure, FailureState, isRetryable, MAX_PAUSES, safeErrorMessage } from './failure-policy';

const limits = { maxAttempts: 3, backoffMs: 1000, outageMaxMs: 3_600_000, outageBackoffMaxMs: 30_000 };
const now = 1_000_000_000;
const fresh: FailureState = { failures: 0, pauses: 0, now };
const mongoDown = Object.assign(new Error('connect ECONNREFUSED'), { name: 'MongoServerSelectionError' });
const redisDown = new Error('Connection is closed.');
const server500 = new LlmServerError('LLM provider responded 500', 500);

describe(decideFailure.name, () => {
  it.each<[string, unknown, Partial<FailureState>, ReturnType<typeof decideFailure>]>([
    ['shutdown abort hands the job back', new Error('aborted'), { abortReason: ABORT_SHUTDOWN }, { action: 'hand-back' }],
    ['a lost lock releases the job', new Error('aborted'), { abortReason: ABORT_LOCK_LOST }, { action: 'release' }],
    ["a user's cancel ends the delivery without a retry", new Error('aborted'), { abortReason: ABORT_CANCELLED }, { action: 'done' }],
    ['a cancel wins over the error the aborted call threw', server500, { abortReason: ABORT_CANCELLED, failures: 2 }, { action: 'done' }],
    ['MongoDB down at the start of an outage: 1 s', mongoDown, { blockedSince: now }, { action: 'defer', delayMs: 1000, message: expect.any(String) }],
    ['Redis down, blocked for 8 s: 8 s', redisDown, { blockedSince: now - 8000 }, { action: 'defer', delayMs: 8000, message: expect.any(String) }],
    ['a long outage waits at most the cap', mongoDown, { blockedSince: now - 600_000 }, { action: 'defer', delayMs: 30_000, message: expect.any(String) }],
    ['an outage past the bound fails, saying so', mongoDown, { blockedSince: now - 3_600_000 }, { action: 'fail', message: expect.stringMatching(/unavailable for over 1 h/) }],
    ['an outage never counts an attempt, even the last', mongoDown, { failures: 2, blockedSince: now }, { action: 'defer', delayMs: 1000, message: expect.any(String) }],
    ['a 5xx retries with backoff', server500, {}, { action: 'retry', delayMs: 1000, message: server500.message }],
    ['the backoff doubles', server500, { failures: 1 }, { action: 'retry', delayMs: 2000, message: server500.message }],
    ['the last attempt fails', server500, { failures: 2 }, { action: 'fail', message: server500.message }],
    ['a 400 fails at once', new LlmBadRequestError('LLM provider responded 400', 400), {}, { action: 'fail', message: 'LLM provider responded 400' }],
    ['402 without Retry-After fails at once', new LlmPaymentRequiredError('no credits'), {}, { action: 'fail', message: 'no credits' }],
    ['429 with Retry-After pauses', new LlmRateLimitError('slow down', 2000), { failures: 2 }, { action: 'pause', delayMs: 2000, message: 'slow down' }],
    ['Retry-After pauses are bounded', new LlmRateLimitError('slow down', 2000), { pauses: MAX_PAUSES }, { action: 'retry', delayMs: 1000, message: 'slow down' }],
    ['an unexpected error is retried like a provider failure', new TypeError('x is undefined'), {}, { action: 'retry', delayMs: 1000, message: 'Content generation failed' }],
  ])('%s', (_name, error, state, verdict) => {
    expect(decideFailure(error, { ...fresh, ...state }, limits)).toEqual(verdict);
  });
});

describe('failure classification', () => {
  it('retries anything but a typed provider refusal', () => {
    expect(isRetryable(new LlmServerError('x', 502))).toBe(true);
    expect(isRetryable(new Error('database hiccup'))).toBe(true);
    expect(isRetryable(new LlmBadRequestError('bad', 400))).toBe(false);
  });

  it('never stores an internal error message', () => {
    expect(safeErrorMessage(new Error('MongoServerError: E11000 at 10.0.0.3'))).toBe('Content generation failed');
    expect(safeErrorMessage(new LlmServerError('x'.repeat(500), 500)).length).toBeLessThanOrEqual(200);
  });
});
