import type { GenerationOptions } from '@app/common';
import type { OpenRouterConfig } from '@app/config';
import { createServer } from 'node:net';
import { type OpenRouterStub, startOpenRouterStub, type StubRequest, type StubScript, stubAnswerFor, waitFor } from '@app/testing';
import {
  LlmAuthError,
  LlmBadRequestError,
  LlmEmptyResponseError,
  LlmError,
  LlmNetworkError,
  LlmOutputTooLargeError,
  LlmPaymentRequiredError,
  LlmRateLimitError,
  LlmResponseError,
  LlmServerError,
  LlmTimeoutError,
} from './llm.errors';
import type { GenerationRequest } from './llm-provider';
import { OpenRouterClient, outputBounds } from './openrouter.client';
import { buildMessages, MAX_TOKENS, maxTokensFor } from './prompts/build-messages';

const API_KEY = 'sk-or-v1-test-key-that-must-never-leak';

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * How the stub's answer to `request` ended. Within a second, well before the client's 2 s request timeout
 * would drop the connection anyway: a client that stops reading must also let go of the connection.
 */
function answerOf(request: StubRequest): Promise<NonNullable<StubRequest['response']>> {
  return waitFor(() => request.response, 'the stub answer to be finished or dropped within 1 s', 1000, 10);
}

/** A port nothing listens on: bind one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(OpenRouterClient.name, () => {
  let stub: OpenRouterStub;
  let sut: OpenRouterClient;

  const configFor = (overrides: Partial<OpenRouterConfig> = {}): OpenRouterConfig => ({
    provider: 'openrouter',
    apiKey: API_KEY,
    model: 'openai/gpt-4o-mini',
    fallbackModels: [],
    allowedModels: ['openai/gpt-4o-mini'],
    baseUrl: stub.url,
    timeoutMs: 2000,
    maxOutputChars: 50_000,
    appUrl: 'http://localhost:5000',
    appTitle: 'AI Content Generator',
    ...overrides,
  });
  const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
    prompt: 'Benefits of remote work',
    contentType: 'Blog Post Outline',
    ...overrides,
  });
  /** Generates, the caller aborting once it has `abortAfter` deltas; returns the error and the deltas it received. */
  const abortedGeneration = async (abortAfter: number): Promise<{ error: Error; deltas: string[] }> => {
    const controller = new AbortController();
    const deltas: string[] = [];
    const onDelta = (text: string) => {
      deltas.push(text);
      if (deltas.length === abortAfter) controller.abort();
    };
    const error = await failureOf(sut.generate(request({ signal: controller.signal, onDelta })));
    return { error, deltas };
  };

  beforeAll(async () => {
    stub = await startOpenRouterStub();
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.reset();
    sut = new OpenRouterClient(configFor());
  });

  describe('streaming success', () => {
    it('returns the streamed text, answering model, usage with cost and generation id', async () => {
      sut = new OpenRouterClient(configFor({ fallbackModels: ['anthropic/claude-3.5-haiku', 'google/gemini-flash-1.5'] }));
      stub.enqueue({ kind: 'stream', text: 'Hello there, wonderful world! ✨', chunks: 3, model: 'anthropic/claude-3.5-haiku' });
      const deltas: string[] = [];

      const result = await sut.generate(request({ onDelta: (text) => deltas.push(text) }));

      expect(result).toEqual({
        text: 'Hello there, wonderful world! ✨',
        texts: ['Hello there, wonderful world! ✨'],
        provider: 'openrouter',
        model: 'anthropic/claude-3.5-haiku',
        usage: { promptTokens: expect.any(Number), completionTokens: 5, totalTokens: expect.any(Number), cost: expect.any(Number) },
        finishReason: 'stop',
        generationId: 'gen-stub-1',
        durationMs: expect.any(Number),
      });
      expect(result.usage!.cost).toBeGreaterThan(0);
      expect(result.usage!.totalTokens).toBe(result.usage!.promptTokens + 5);
      expect(deltas).toHaveLength(3);
      expect(deltas.join('')).toBe(result.text);
      expect(result.text).not.toContain('OPENROUTER PROCESSING');
    });

    it('sends the attribution headers, the bearer key and the chat body with fallback models', async () => {
      sut = new OpenRouterClient(configFor({ fallbackModels: ['anthropic/claude-3.5-haiku'] }));

      await sut.generate(request({ contentType: 'Product Description', prompt: 'A bamboo toothbrush' }));

      expect(stub.requests).toHaveLength(1);
      const [sent] = stub.requests;
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/api/v1/chat/completions');
      expect(sent.headers).toMatchObject({
        authorization: `Bearer ${API_KEY}`,
        'http-referer': 'http://localhost:5000',
        'x-openrouter-title': 'AI Content Generator',
        'x-title': 'AI Content Generator',
        'content-type': 'application/json',
      });
      expect(sent.body).toEqual({
        model: 'openai/gpt-4o-mini',
        models: ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku'],
        messages: buildMessages({ contentType: 'Product Description', prompt: 'A bamboo toothbrush' }),
        max_tokens: 800,
        temperature: 0.7,
        stream: true,
        usage: { include: true },
      });
    });

    it.each([
      ['Blog Post Outline', 1500],
      ['Product Description', 800],
      ['Social Media Caption', 400],
    ] as const)('asks for max_tokens %s: %i', async (contentType, maxTokens) => {
      await sut.generate(request({ contentType }));

      expect(stub.requests[0].body.max_tokens).toBe(maxTokens);
      expect(MAX_TOKENS[contentType]).toBe(maxTokens);
    });

    it('omits models when no fallback is configured and streams the default answer', async () => {
      const deltas: string[] = [];

      const result = await sut.generate(request({ onDelta: (text) => deltas.push(text) }));

      expect(stub.requests[0].body).not.toHaveProperty('models');
      expect(result.text).toBe(stubAnswerFor('Benefits of remote work'));
      expect(result.model).toBe('openai/gpt-4o-mini');
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(result.text);
    });

    it('keeps a finish reason other than stop', async () => {
      stub.enqueue({ kind: 'stream', text: 'Cut short', finishReason: 'length' });

      const result = await sut.generate(request());

      expect(result).toMatchObject({ text: 'Cut short', finishReason: 'length' });
    });
  });

  it('reads a non-streaming JSON answer', async () => {
    stub.enqueue({ kind: 'json', text: 'Whole answer at once' });
    const deltas: string[] = [];

    const result = await sut.generate(request({ onDelta: (text) => deltas.push(text) }));

    expect(result).toMatchObject({
      text: 'Whole answer at once',
      model: 'openai/gpt-4o-mini',
      finishReason: 'stop',
      generationId: 'gen-stub-1',
      usage: { completionTokens: 4, cost: expect.any(Number) },
    });
    expect(deltas.join('')).toBe(result.text);
  });

  describe('HTTP errors', () => {
    it.each([
      [400, LlmBadRequestError],
      [401, LlmAuthError],
      [403, LlmAuthError],
      [404, LlmBadRequestError],
    ])('%i is final', async (status, type) => {
      stub.enqueue({ kind: 'status', status, message: `Stub says ${status}` });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ retryable: false, status, message: `LLM provider responded ${status}: Stub says ${status}` });
    });

    it('402 without Retry-After is final', async () => {
      stub.enqueue({ kind: 'status', status: 402, message: 'Insufficient credits' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmPaymentRequiredError);
      expect(error).toMatchObject({ retryable: false, status: 402, code: 'LLM_PAYMENT_REQUIRED', retryAfterMs: undefined });
    });

    it('402 with Retry-After is retryable after that delay', async () => {
      stub.enqueue({ kind: 'status', status: 402, retryAfter: 30 });

      const error = await failureOf(sut.generate(request()));

      expect(error).toMatchObject({ retryable: true, status: 402, retryAfterMs: 30_000 });
    });

    it('429 is retryable after Retry-After seconds', async () => {
      stub.enqueue({ kind: 'status', status: 429, retryAfter: 2 });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmRateLimitError);
      expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000, code: 'LLM_RATE_LIMITED' });
    });

    it('429 reads Retry-After as an HTTP-date', async () => {
      stub.enqueue({ kind: 'status', status: 429, retryAfter: new Date(Date.now() + 60_000).toUTCString() });

      const error = (await failureOf(sut.generate(request()))) as LlmError;

      expect(error.retryAfterMs).toBeGreaterThan(55_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it.each([500, 502, 503])('%i is retryable', async (status) => {
      stub.enqueue({ kind: 'status', status });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmServerError);
      expect(error).toMatchObject({ retryable: true, status, retryAfterMs: undefined });
    });

    it('503 carries Retry-After', async () => {
      stub.enqueue({ kind: 'status', status: 503, retryAfter: 5 });

      const error = await failureOf(sut.generate(request()));

      expect(error).toMatchObject({ retryable: true, status: 503, retryAfterMs: 5000 });
    });

    it('truncates the provider message and never includes the API key', async () => {
      stub.enqueue({ kind: 'status', status: 400, message: 'x'.repeat(5000) });

      const error = await failureOf(sut.generate(request()));

      expect(error.message.length).toBeLessThan(260);
      expect(error.message).not.toContain(API_KEY);
    });

    it('sends no Authorization header without a key (a keyless OpenAI-compatible server)', async () => {
      sut = new OpenRouterClient(configFor({ apiKey: undefined }));

      const error = await failureOf(sut.generate(request()));

      expect(stub.requests[0].headers).not.toHaveProperty('authorization');
      expect(error).toBeInstanceOf(LlmAuthError);
    });
  });

  describe('broken 2xx answers', () => {
    it('an error object in a 200 body is a retryable response error', async () => {
      stub.enqueue({ kind: 'error-in-200', code: 502, message: 'Upstream provider failed' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmResponseError);
      expect(error).toMatchObject({ retryable: true, code: 'LLM_RESPONSE_ERROR' });
      expect(error.message).toContain('Upstream provider failed');
    });

    it('an error chunk mid-stream fails the generation instead of returning the partial text', async () => {
      stub.enqueue({ kind: 'error-mid-stream', text: 'Partial text before failure', message: 'Provider disconnected' });
      const deltas: string[] = [];

      const error = await failureOf(sut.generate(request({ onDelta: (text) => deltas.push(text) })));

      expect(error).toBeInstanceOf(LlmResponseError);
      expect(error.message).toContain('Provider disconnected');
      expect(deltas.join('')).not.toBe('');
    });

    it('an SSE error event fails the generation', async () => {
      stub.enqueue({ kind: 'error-event', message: 'Stream exploded' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmResponseError);
      expect(error.message).toContain('Stream exploded');
    });

    it('malformed JSON is a retryable response error', async () => {
      stub.enqueue({ kind: 'malformed-json' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmResponseError);
      expect(error).toMatchObject({ retryable: true });
    });

    it('a stream that ends without finish_reason or [DONE] is a response error', async () => {
      stub.enqueue({ kind: 'truncated-stream' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmResponseError);
      expect(error.message).toContain('ended before');
    });

    it('a stream with no text is an empty response', async () => {
      stub.enqueue({ kind: 'stream', text: '' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmEmptyResponseError);
      expect(error).toMatchObject({ retryable: true, code: 'LLM_EMPTY_RESPONSE' });
    });
  });

  describe('timeouts, aborts and network failures', () => {
    it('a connection that never answers times out', async () => {
      sut = new OpenRouterClient(configFor({ timeoutMs: 300 }));
      stub.enqueue({ kind: 'hang' });
      const startedAt = Date.now();

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmTimeoutError);
      expect(error).toMatchObject({ retryable: true, code: 'LLM_TIMEOUT' });
      expect(Date.now() - startedAt).toBeLessThan(1500);
    });

    it('a stream that stalls past the timeout times out', async () => {
      sut = new OpenRouterClient(configFor({ timeoutMs: 300 }));
      stub.enqueue({ kind: 'stream', chunks: 3, chunkDelayMs: 1000 });

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmTimeoutError);
    });

    it("rethrows the caller's abort as an AbortError while waiting for headers", async () => {
      stub.enqueue({ kind: 'hang' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);

      const error = await failureOf(sut.generate(request({ signal: controller.signal })));

      expect(error).not.toBeInstanceOf(LlmError);
      expect(error.name).toBe('AbortError');
    });

    it.each<[string, StubScript]>([
      ['mid-stream, between reads', { kind: 'stream', chunks: 5, chunkDelayMs: 100 }],
      ['with no piece passed on after it, even from the same read', { kind: 'stream', text: 'x'.repeat(200), chunks: 20 }],
    ])("rethrows the caller's abort as an AbortError %s", async (_name, script) => {
      stub.enqueue(script);

      const { error, deltas } = await abortedGeneration(1);

      expect(error.name).toBe('AbortError');
      expect(deltas).toHaveLength(1);
    });

    it('a closed port is a retryable network error', async () => {
      sut = new OpenRouterClient(configFor({ baseUrl: `http://127.0.0.1:${await closedPort()}/api/v1` }));

      const error = await failureOf(sut.generate(request()));

      expect(error).toBeInstanceOf(LlmNetworkError);
      expect(error).toMatchObject({ retryable: true, code: 'LLM_NETWORK' });
      expect(error.message).toContain('ECONNREFUSED');
    });
  });

  describe('prompt markers', () => {
    it('[[stub:sequence=...]] answers each attempt of the same prompt in turn', async () => {
      const prompt = 'Retry me [[stub:sequence=500,429,ok]] [[stub:retry-after=1]]';

      const first = await failureOf(sut.generate(request({ prompt })));
      const second = await failureOf(sut.generate(request({ prompt })));
      const third = await sut.generate(request({ prompt }));

      expect(first).toBeInstanceOf(LlmServerError);
      expect(second).toMatchObject({ status: 429, retryAfterMs: 1000 });
      expect(third.text).toBe(stubAnswerFor(prompt));
    });

    it('[[stub:status=...]] answers every attempt with that status', async () => {
      const prompt = 'Always broken [[stub:status=401]]';

      const errors = [await failureOf(sut.generate(request({ prompt }))), await failureOf(sut.generate(request({ prompt })))];

      expect(errors.map((error) => (error as LlmError).status)).toEqual([401, 401]);
    });

    it('[[stub:respond=...]] selects any outcome', async () => {
      const error = await failureOf(sut.generate(request({ prompt: 'Broken body [[stub:respond=malformed-json]]' })));

      expect(error).toBeInstanceOf(LlmResponseError);
    });
  });

  describe('output limit', () => {
    const limit = 5000;
    const bounds = outputBounds(limit);
    const tooLarge = { code: 'LLM_OUTPUT_TOO_LARGE', retryable: false, maxChars: limit };

    beforeEach(() => {
      sut = new OpenRouterClient(configFor({ maxOutputChars: limit }));
    });

    it('answers a stream of exactly the limit', async () => {
      stub.enqueue({ kind: 'stream', text: 'x'.repeat(limit), chunks: 7 });

      const result = await sut.generate(request());

      expect(result.text).toHaveLength(limit);
    });

    it('aborts a stream at once when it passes the limit, with deltas that stay within it', async () => {
      stub.enqueue({ kind: 'huge', megabytes: 64, chunkChars: 700 });
      const deltas: string[] = [];

      const error = await failureOf(sut.generate(request({ onDelta: (text) => deltas.push(text) })));

      expect(error).toBeInstanceOf(LlmOutputTooLargeError);
      expect(error).toMatchObject({ ...tooLarge, message: `LLM answer exceeded ${limit} characters` });
      // Seven chunks of 700 fit in 5000; the eighth would not and is never passed on.
      expect(deltas.join('')).toHaveLength(4900);
      const answer = await answerOf(stub.requests[0]);
      expect(answer.complete).toBe(false);
      expect(answer.bytes).toBeLessThan(16 * 1024 * 1024);
    });

    it('checks each piece before passing it on', async () => {
      sut = new OpenRouterClient(configFor({ maxOutputChars: 5 }));
      stub.enqueue({ kind: 'stream', chunks: ['abc', 'def'] });
      const deltas: string[] = [];

      const error = await failureOf(sut.generate(request({ onDelta: (text) => deltas.push(text) })));

      expect(error).toMatchObject({ code: 'LLM_OUTPUT_TOO_LARGE', message: 'LLM answer exceeded 5 characters' });
      expect(deltas).toEqual(['abc']);
    });

    it('stops reading a JSON body larger than an answer within the limit can be', async () => {
      stub.enqueue({ kind: 'huge-json', megabytes: 64 });
      const deltas: string[] = [];

      const error = await failureOf(sut.generate(request({ onDelta: (text) => deltas.push(text) })));

      expect(error).toMatchObject({ ...tooLarge, message: `LLM response passed ${bounds.maxDocumentBytes} bytes, more than an answer of ${limit} characters needs` });
      expect(deltas).toEqual([]);
      const answer = await answerOf(stub.requests[0]);
      expect(answer.complete).toBe(false);
      expect(answer.bytes).toBeLessThan(16 * 1024 * 1024);
    });

    it('does not start reading a JSON body whose Content-Length is already too large', async () => {
      stub.enqueue({ kind: 'huge-json', megabytes: 64, declareLength: true });

      const error = await failureOf(sut.generate(request()));

      expect(error).toMatchObject(tooLarge);
      const answer = await answerOf(stub.requests[0]);
      expect(answer.complete).toBe(false);
      expect(answer.bytes).toBeLessThan(16 * 1024 * 1024);
    });

    it('fails a small JSON body whose text passes the limit, without a delta', async () => {
      stub.enqueue({ kind: 'json', text: 'x'.repeat(limit + 1) });
      const deltas: string[] = [];

      const error = await failureOf(sut.generate(request({ onDelta: (text) => deltas.push(text) })));

      expect(error).toMatchObject({ ...tooLarge, message: `LLM answer exceeded ${limit} characters` });
      expect(deltas).toEqual([]);
    });

    it('bounds an SSE line that never ends', async () => {
      stub.enqueue({ kind: 'endless-line' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toMatchObject({ ...tooLarge, message: `LLM response passed ${bounds.maxDocumentBytes} bytes, more than an answer of ${limit} characters needs` });
      expect((await answerOf(stub.requests[0])).complete).toBe(false);
    });

    it('bounds a stream of endless keep-alive comments', async () => {
      stub.enqueue({ kind: 'endless-comments' });

      const error = await failureOf(sut.generate(request()));

      expect(error).toMatchObject({ ...tooLarge, message: `LLM response passed ${bounds.maxStreamBytes} bytes, more than an answer of ${limit} characters needs` });
      expect((await answerOf(stub.requests[0])).complete).toBe(false);
    });

    it('reads no more than 64 KiB of an error body', async () => {
      stub.enqueue({ kind: 'status', status: 500, message: 'x'.repeat(1024 * 1024) });

      const error = await failureOf(sut.generate(request()));

      expect(error).toMatchObject({ status: 500, message: 'LLM provider responded 500: Internal Server Error' });
    });

    it("stops an endless stream at once on the caller's abort", async () => {
      stub.enqueue({ kind: 'endless', chunkChars: 10 });

      const { error, deltas } = await abortedGeneration(3);

      expect(error.name).toBe('AbortError');
      expect(error).not.toBeInstanceOf(LlmError);
      expect(deltas).toHaveLength(3);
      expect((await answerOf(stub.requests[0])).complete).toBe(false);
    });

  });

  describe('options and variants', () => {
    const prompt = 'Benefits of remote work';

    it('uses the model the request names, alone: no fallback answers in its place', async () => {
      sut = new OpenRouterClient(configFor({ fallbackModels: ['anthropic/claude-3.5-haiku'] }));

      const result = await sut.generate(request({ options: { model: 'mistralai/mistral-small' } }));

      expect(stub.requests[0].body.model).toBe('mistralai/mistral-small');
      expect(stub.requests[0].body).not.toHaveProperty('models');
      expect(result.model).toBe('mistralai/mistral-small');
    });

    it('sends the messages and max_tokens the options make', async () => {
      const options: GenerationOptions = { tone: 'friendly', language: 'de', length: 'long', keywords: ['async'] };

      await sut.generate(request({ options }));

      expect(stub.requests[0].messages).toEqual(buildMessages({ prompt, contentType: 'Blog Post Outline', options }));
      expect(stub.requests[0].body.max_tokens).toBe(maxTokensFor({ contentType: 'Blog Post Outline', options }));
      expect(stub.requests[0].prompt).toBe(prompt);
    });

    it('asks for n choices in one streamed call, passing on the deltas of the first only', async () => {
      const deltas: string[] = [];

      const result = await sut.generate(request({ options: { variants: 3 }, onDelta: (text) => deltas.push(text) }));

      expect(stub.requests).toHaveLength(1);
      expect(stub.requests[0].n).toBe(3);
      expect(result.texts).toEqual([stubAnswerFor(prompt), stubAnswerFor(prompt, 1), stubAnswerFor(prompt, 2)]);
      expect(result.text).toBe(result.texts[0]);
      expect(deltas.join('')).toBe(result.text);
      expect(result).toMatchObject({ generationId: 'gen-stub-1', finishReason: 'stop', model: 'openai/gpt-4o-mini' });
    });

    it('reads several choices from a JSON answer', async () => {
      stub.enqueue({ kind: 'json', choices: ['First', 'Second'] });
      const deltas: string[] = [];

      const result = await sut.generate(request({ options: { variants: 2 }, onDelta: (text) => deltas.push(text) }));

      expect(result.texts).toEqual(['First', 'Second']);
      expect(deltas).toEqual(['First']);
    });

    it('makes the missing answers one by one, without deltas, when the model ignores n; usage summed', async () => {
      stub.ignoreN();
      stub.enqueue({ kind: 'stream', text: 'One' }, { kind: 'stream', text: 'Two words' }, { kind: 'json', text: 'Three more words' });
      const deltas: string[] = [];
      const reported: number[] = [];

      const result = await sut.generate(request({ options: { variants: 3 }, onDelta: (text) => deltas.push(text), onUsage: (usage) => reported.push(usage.completionTokens) }));

      expect(stub.requests.map((sent) => sent.n)).toEqual([3, 1, 1]);
      // Each call's usage as it ended, so a generation cancelled during the third call still tells the first two.
      expect(reported).toEqual([1, 2, 3]);
      expect(stub.requests[1].body).not.toHaveProperty('n');
      expect(result.texts).toEqual(['One', 'Two words', 'Three more words']);
      expect(deltas.join('')).toBe('One');
      const promptTokens = result.usage!.promptTokens / 3;
      expect(result.usage).toEqual({ promptTokens: promptTokens * 3, completionTokens: 6, totalTokens: promptTokens * 3 + 6, cost: expect.any(Number) });
      expect(result.usage!.cost).toBeCloseTo(((promptTokens + 1) + (promptTokens + 2) + (promptTokens + 3)) * 0.000002, 8);
      expect(result).toMatchObject({ generationId: 'gen-stub-1', durationMs: expect.any(Number) });
    });

    it('fills in after an answer with fewer choices than asked, and ignores choices not asked for', async () => {
      stub.enqueue({ kind: 'stream', choices: ['A', '', 'C', 'D', 'E'] }, { kind: 'stream', text: 'B' });

      const result = await sut.generate(request({ options: { variants: 3 } }));

      expect(result.texts).toEqual(['A', 'C', 'B']);
      expect(stub.requests).toHaveLength(2);
    });

    it('applies LLM_MAX_OUTPUT_CHARS to each choice', async () => {
      sut = new OpenRouterClient(configFor({ maxOutputChars: 10 }));
      stub.enqueue({ kind: 'stream', choices: ['x'.repeat(10), 'y'.repeat(10)] }, { kind: 'stream', choices: ['ok', 'y'.repeat(11)] });

      await expect(sut.generate(request({ options: { variants: 2 } }))).resolves.toMatchObject({ texts: ['x'.repeat(10), 'y'.repeat(10)] });
      await expect(sut.generate(request({ options: { variants: 2 } }))).rejects.toBeInstanceOf(LlmOutputTooLargeError);
    });

    it('fails when the first choice is empty', async () => {
      stub.enqueue({ kind: 'stream', choices: ['', 'B'] });

      await expect(sut.generate(request({ options: { variants: 2 } }))).rejects.toBeInstanceOf(LlmEmptyResponseError);
    });

    it('asks a repair for one answer, with the earlier answer and its problems', async () => {
      const repair = { text: 'Too short', problems: ['the outline has 0 sections; it needs at least 3, each a Markdown heading (## Heading) with bullet points'] };

      const result = await sut.generate(request({ options: { variants: 3 }, repair }));

      expect(stub.requests).toHaveLength(1);
      expect(stub.requests[0]).toMatchObject({ n: 1, repair: true, prompt });
      expect(stub.requests[0].messages).toEqual(buildMessages({ prompt, contentType: 'Blog Post Outline', options: { variants: 3 }, repair }));
      expect(result.texts).toEqual([stubAnswerFor(prompt)]);
    });
  });
});
