import type { OpenRouterConfig } from '@app/config';
import { createServer } from 'node:net';
import { type OpenRouterStub, startOpenRouterStub, stubAnswerFor } from '../../../test/support/openrouter-stub';
import {
  LlmAuthError,
  LlmBadRequestError,
  LlmEmptyResponseError,
  LlmError,
  LlmNetworkError,
  LlmPaymentRequiredError,
  LlmRateLimitError,
  LlmResponseError,
  LlmServerError,
  LlmTimeoutError,
} from './llm.errors';
import type { GenerationRequest } from './llm-provider';
import { OpenRouterClient } from './openrouter.client';
import { SYSTEM_PROMPTS } from './system-prompts';

const API_KEY = 'sk-or-v1-test-key-that-must-never-leak';

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
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
    baseUrl: stub.url,
    timeoutMs: 2000,
    appUrl: 'http://localhost:5000',
    appTitle: 'AI Content Generator',
    ...overrides,
  });
  const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
    prompt: 'Benefits of remote work',
    contentType: 'Blog Post Outline',
    ...overrides,
  });

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
        messages: [
          { role: 'system', content: SYSTEM_PROMPTS['Product Description'] },
          { role: 'user', content: 'A bamboo toothbrush' },
        ],
        max_tokens: 1500,
        temperature: 0.7,
        stream: true,
        usage: { include: true },
      });
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

    it("rethrows the caller's abort as an AbortError mid-stream", async () => {
      stub.enqueue({ kind: 'stream', chunks: 5, chunkDelayMs: 100 });
      const controller = new AbortController();
      const deltas: string[] = [];

      const error = await failureOf(
        sut.generate(
          request({
            signal: controller.signal,
            onDelta: (text) => {
              deltas.push(text);
              controller.abort();
            },
          }),
        ),
      );

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
});
