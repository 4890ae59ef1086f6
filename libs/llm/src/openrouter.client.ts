import type { TokenUsage } from '@app/common';
import type { OpenRouterConfig } from '@app/config';
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import {
  LlmEmptyResponseError,
  LlmError,
  llmErrorFromStatus,
  LlmNetworkError,
  LlmOutputTooLargeError,
  LlmResponseError,
  LlmTimeoutError,
  parseRetryAfter,
  truncateProviderMessage,
} from './llm.errors';
import { GenerationRequest, GenerationResult, LlmProvider } from './llm-provider';
import { MAX_TOKENS, SYSTEM_PROMPTS } from './system-prompts';

const TEMPERATURE = 0.7;
/** Enough of an error body for its message; an error page larger than this is not worth reading. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

interface ProviderError {
  code?: number | string;
  message?: string;
}

interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cost?: number;
}

/** The fields read from a streamed chunk or a whole (non-streaming) completion. */
interface ChatCompletion {
  id?: string;
  model?: string;
  choices?: Array<{
    delta?: { content?: string | null };
    message?: { content?: string | null };
    finish_reason?: string | null;
  }>;
  usage?: ChatUsage;
  error?: ProviderError;
}

/** What a response produced, before it becomes a `GenerationResult`. */
interface Completion {
  text: string;
  model?: string;
  usage?: TokenUsage;
  finishReason?: string;
  id?: string;
}

/** How much reading one answer may take, all derived from LLM_MAX_OUTPUT_CHARS. */
export interface OutputBounds {
  /** Characters of text, as String#length counts them. */
  maxChars: number;
  /** One JSON document holding the whole answer: a non-streamed body, or a single SSE event. */
  maxDocumentBytes: number;
  /** All bytes of a stream, chunk envelopes and keep-alive comments included. */
  maxStreamBytes: number;
}

/** What reading one response needs: where the pieces go, the signal that ends it, and the bounds. */
interface ReadContext {
  onDelta?: (text: string) => void;
  signal: AbortSignal;
  bounds: OutputBounds;
}

/** The reading bounds for answers of at most `maxChars` characters. */
export function outputBounds(maxChars: number): OutputBounds {
  return {
    maxChars,
    // At worst 6 bytes per character (a \uXXXX escape), plus the envelope around it (id, model, usage).
    maxDocumentBytes: maxChars * 6 + 64 * 1024,
    // Room for a ~500-byte chunk envelope per character, so only a runaway stream reaches it.
    maxStreamBytes: maxChars * 512 + 1024 * 1024,
  };
}

/**
 * The OpenRouter chat completions API (or any OpenAI-compatible base URL), streamed over SSE.
 * Constructible without Nest so tests can point it at a local stub.
 */
export class OpenRouterClient extends LlmProvider {
  readonly name = 'openrouter' as const;
  readonly model: string;
  private readonly bounds: OutputBounds;

  constructor(private readonly config: OpenRouterConfig) {
    super();
    this.model = config.model;
    this.bounds = outputBounds(config.maxOutputChars);
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const startedAt = performance.now();
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    // Aborted when we stop reading early, so the connection is dropped at once instead of drained.
    const release = new AbortController();
    const signal = AbortSignal.any([release.signal, timeout, ...(request.signal ? [request.signal] : [])]);
    try {
      const response = await fetch(`${this.config.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(this.body(request)),
        signal,
      });
      if (!response.ok) throw await statusError(response);
      const context: ReadContext = { onDelta: request.onDelta, signal, bounds: this.bounds };
      const contentType = response.headers.get('content-type') ?? '';
      const completion = contentType.includes('text/event-stream') ? await readStream(response, context) : await readJson(response, context);
      if (!completion.text) throw new LlmEmptyResponseError();
      return {
        text: completion.text,
        texts: [completion.text],
        provider: 'openrouter',
        model: completion.model ?? this.config.model,
        usage: completion.usage,
        finishReason: completion.finishReason,
        generationId: response.headers.get('x-generation-id') ?? completion.id,
        durationMs: Math.round(performance.now() - startedAt),
      };
    } catch (error) {
      release.abort();
      throw translate(error, request.signal, timeout, this.config.timeoutMs);
    }
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'HTTP-Referer': this.config.appUrl,
      'X-OpenRouter-Title': this.config.appTitle,
      // The older attribution header, still read by OpenRouter.
      'X-Title': this.config.appTitle,
    };
    // A keyless OpenAI-compatible server (a local model) needs no Authorization header.
    if (this.config.apiKey) headers.Authorization = `Bearer ${this.config.apiKey}`;
    return headers;
  }

  private body(request: GenerationRequest): Record<string, unknown> {
    const { model, fallbackModels } = this.config;
    return {
      model,
      ...(fallbackModels.length > 0 ? { models: [model, ...fallbackModels] } : {}),
      messages: [
        { role: 'system', content: SYSTEM_PROMPTS[request.contentType] },
        { role: 'user', content: request.prompt },
      ],
      max_tokens: MAX_TOKENS[request.contentType],
      temperature: TEMPERATURE,
      stream: true,
      usage: { include: true },
    };
  }
}

/** Caller aborts pass through untouched so the worker can tell shutdown from failure. */
function translate(error: unknown, callerSignal: AbortSignal | undefined, timeout: AbortSignal, timeoutMs: number): unknown {
  if (callerSignal?.aborted) return error;
  if (error instanceof LlmError) return error;
  if (timeout.aborted) return new LlmTimeoutError(`LLM request timed out after ${timeoutMs} ms`);
  // undici reports connection failures as TypeError('fetch failed' | 'terminated') with the socket error as cause;
  // checked by name, since undici's TypeError may come from another realm (jest's vm context).
  const failure = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  if (failure?.name === 'TypeError' && failure.cause) {
    const reason = failure.cause.code ?? failure.cause.message ?? failure.message;
    return new LlmNetworkError(`LLM request failed: ${truncateProviderMessage(String(reason))}`, error);
  }
  return error;
}

/**
 * The body as text, or undefined when it is (or says it is) larger than `maxBytes`. The rest is never read:
 * the caller then fails, and its abort drops the connection.
 */
async function readCapped(response: Response, maxBytes: number): Promise<string | undefined> {
  if (Number(response.headers.get('content-length')) > maxBytes) return undefined;
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const bytes of response.body) {
    size += bytes.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function bodyTooLarge(bounds: OutputBounds, maxBytes: number): LlmOutputTooLargeError {
  return new LlmOutputTooLargeError(bounds.maxChars, `LLM response passed ${maxBytes} bytes, more than an answer of ${bounds.maxChars} characters needs`);
}

async function statusError(response: Response): Promise<LlmError> {
  const body = (await readCapped(response, MAX_ERROR_BODY_BYTES).catch(() => undefined)) ?? '';
  let message: string | undefined;
  try {
    message = (JSON.parse(body) as { error?: ProviderError }).error?.message;
  } catch {
    // Not JSON: the status alone is safer than an arbitrary (often HTML) body.
  }
  return llmErrorFromStatus(response.status, message ?? response.statusText, parseRetryAfter(response.headers.get('retry-after')));
}

function providerError(prefix: string, error: ProviderError): LlmResponseError {
  const code = error.code === undefined ? '' : ` (${String(error.code)})`;
  const detail = error.message ? `: ${truncateProviderMessage(error.message)}` : '';
  return new LlmResponseError(`${prefix}${code}${detail}`);
}

function toUsage(usage: ChatUsage | undefined): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const promptTokens = usage.prompt_tokens ?? 0;
  const completionTokens = usage.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: usage.total_tokens ?? promptTokens + completionTokens,
    ...(typeof usage.cost === 'number' ? { cost: usage.cost } : {}),
  };
}

async function readJson(response: Response, { onDelta, bounds }: ReadContext): Promise<Completion> {
  const body = await readCapped(response, bounds.maxDocumentBytes);
  if (body === undefined) throw bodyTooLarge(bounds, bounds.maxDocumentBytes);
  let parsed: ChatCompletion;
  try {
    parsed = JSON.parse(body) as ChatCompletion;
  } catch (error) {
    throw new LlmResponseError('LLM response was not valid JSON', error);
  }
  if (!parsed || typeof parsed !== 'object') throw new LlmResponseError('LLM response was not a JSON object');
  if (parsed.error) throw providerError('LLM response carried an error', parsed.error);
  if (!Array.isArray(parsed.choices)) throw new LlmResponseError('LLM response had no choices');
  const choice = parsed.choices[0];
  if (choice?.finish_reason === 'error') throw new LlmResponseError('LLM response finished with an error');
  const text = choice?.message?.content ?? '';
  if (text.length > bounds.maxChars) throw new LlmOutputTooLargeError(bounds.maxChars);
  if (text) onDelta?.(text);
  return { text, model: parsed.model, usage: toUsage(parsed.usage), finishReason: choice?.finish_reason ?? undefined, id: parsed.id };
}

type StreamState = Completion & { done: boolean; failure?: LlmError };

async function readStream(response: Response, context: ReadContext): Promise<Completion> {
  const { bounds, signal } = context;
  const state: StreamState = { text: '', done: false };
  const parser = createParser({
    onEvent: (event) => onStreamEvent(event, state, context),
    // Without a bound, a line or an event that never ends would be buffered until memory runs out.
    maxBufferSize: bounds.maxDocumentBytes,
    onError: (error: ParseError) => {
      if (error.type === 'max-buffer-size-exceeded') state.failure ??= bodyTooLarge(bounds, bounds.maxDocumentBytes);
    },
  });
  if (!response.body) throw new LlmResponseError('LLM stream had no body');
  const decoder = new TextDecoder();
  let received = 0;
  // Leaving the loop early cancels the body, which releases the connection.
  for await (const bytes of response.body) {
    received += bytes.byteLength;
    if (received > bounds.maxStreamBytes) throw bodyTooLarge(bounds, bounds.maxStreamBytes);
    parser.feed(decoder.decode(bytes, { stream: true }));
    // onDelta may have aborted: stop here rather than read on.
    signal.throwIfAborted();
    if (state.failure) throw state.failure;
    if (state.done) break;
  }
  if (!state.done) {
    parser.feed(decoder.decode());
    parser.reset({ consume: true });
    if (state.failure) throw state.failure;
    if (!state.done && !state.finishReason) throw new LlmResponseError('LLM stream ended before the completion finished');
  }
  return state;
}

function onStreamEvent(event: EventSourceMessage, state: StreamState, { onDelta, signal, bounds }: ReadContext): void {
  if (state.done || state.failure || signal.aborted) return;
  if (event.event === 'error') {
    state.failure = streamEventError(event.data);
    return;
  }
  if (event.data.trim() === '[DONE]') {
    state.done = true;
    return;
  }
  let chunk: ChatCompletion;
  try {
    chunk = JSON.parse(event.data) as ChatCompletion;
  } catch (error) {
    state.failure = new LlmResponseError('LLM stream carried a malformed chunk', error);
    return;
  }
  if (chunk.error) {
    state.failure = providerError('LLM stream carried an error', chunk.error);
    return;
  }
  state.id ??= chunk.id;
  if (chunk.model) state.model = chunk.model;
  if (chunk.usage) state.usage = toUsage(chunk.usage);
  const choice = chunk.choices?.[0];
  const piece = choice?.delta?.content;
  if (piece) {
    // Checked before the piece is passed on, so the deltas never add up to more than the limit.
    if (state.text.length + piece.length > bounds.maxChars) {
      state.failure = new LlmOutputTooLargeError(bounds.maxChars);
      return;
    }
    state.text += piece;
    onDelta?.(piece);
  }
  if (choice?.finish_reason) state.finishReason = choice.finish_reason;
  if (choice?.finish_reason === 'error') state.failure = new LlmResponseError('LLM stream finished with an error');
}

function streamEventError(data: string): LlmResponseError {
  try {
    const parsed = JSON.parse(data) as { error?: ProviderError } & ProviderError;
    return providerError('LLM stream sent an error event', parsed.error ?? parsed);
  } catch {
    return new LlmResponseError(`LLM stream sent an error event: ${truncateProviderMessage(data)}`);
  }
}
