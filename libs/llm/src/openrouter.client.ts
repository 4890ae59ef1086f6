import { MAX_VARIANTS, sumUsage, type TokenUsage } from '@app/common';
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
import { buildMessages, maxTokensFor } from './prompts/build-messages';

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
    index?: number;
    delta?: { content?: string | null };
    message?: { content?: string | null };
    finish_reason?: string | null;
  }>;
  usage?: ChatUsage;
  error?: ProviderError;
}

/** What a response produced, before it becomes a `GenerationResult`. */
interface Completion {
  /** Each choice's text by its index (choice 0 is the one streamed to `onDelta`); missing or empty choices left out after reading. */
  texts: string[];
  model?: string;
  usage?: TokenUsage;
  /** Choice 0's. */
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
  /** How many choices were asked for: the indexes read (0 to choices - 1). */
  choices: number;
  signal: AbortSignal;
  bounds: OutputBounds;
}

/** The reading bounds for `choices` answers of at most `maxChars` characters each. */
export function outputBounds(maxChars: number, choices = 1): OutputBounds {
  return {
    maxChars,
    // At worst 6 bytes per character (a \uXXXX escape), plus the envelope around it (id, model, usage).
    maxDocumentBytes: choices * maxChars * 6 + 64 * 1024,
    // Room for a ~500-byte chunk envelope per character, so only a runaway stream reaches it.
    maxStreamBytes: choices * maxChars * 512 + 1024 * 1024,
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

  /**
   * One call asking for every wanted answer as `n` choices (choice 0 streamed to `onDelta`); when the answer
   * brings fewer (most models ignore `n`), one more call per missing answer, without deltas. Usage is summed over
   * the calls, `durationMs` spans them all, and model, finish reason and generation id are the first call's.
   */
  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const startedAt = performance.now();
    const wanted = request.repair ? 1 : Math.min(Math.max(request.options?.variants ?? 1, 1), MAX_VARIANTS);
    const usages: Array<TokenUsage | undefined> = [];
    const counted = (completion: Completion): Completion => {
      usages.push(completion.usage);
      if (completion.usage) request.onUsage?.(completion.usage);
      return completion;
    };
    const first = counted(await this.call(request, wanted, request.onDelta));
    const texts = first.texts.slice(0, wanted);
    while (texts.length < wanted) {
      const next = counted(await this.call(request, 1, undefined));
      texts.push(next.texts[0]);
    }
    return {
      text: texts[0],
      texts,
      provider: 'openrouter',
      model: first.model ?? request.options?.model ?? this.config.model,
      usage: sumUsage(usages),
      finishReason: first.finishReason,
      generationId: first.id,
      durationMs: Math.round(performance.now() - startedAt),
    };
  }

  /** One HTTP request for `n` choices: every choice's text (choice 0 first, never empty), within its own timeout. */
  private async call(request: GenerationRequest, n: number, onDelta: ((text: string) => void) | undefined): Promise<Completion> {
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    // Aborted when we stop reading early, so the connection is dropped at once instead of drained.
    const release = new AbortController();
    const signal = AbortSignal.any([release.signal, timeout, ...(request.signal ? [request.signal] : [])]);
    try {
      const response = await fetch(`${this.config.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(this.body(request, n)),
        signal,
      });
      if (!response.ok) throw await statusError(response);
      const context: ReadContext = { onDelta, signal, choices: n, bounds: n > 1 ? outputBounds(this.bounds.maxChars, n) : this.bounds };
      const contentType = response.headers.get('content-type') ?? '';
      const completion = contentType.includes('text/event-stream') ? await readStream(response, context) : await readJson(response, context);
      if (!completion.texts[0]) throw new LlmEmptyResponseError();
      return { ...completion, id: response.headers.get('x-generation-id') ?? completion.id };
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

  /**
   * The chat body. A model named by the request (already allow-listed) is used alone: the user chose it, so no
   * fallback model answers in its place; without one, the configured model and its fallbacks.
   */
  private body(request: GenerationRequest, n: number): Record<string, unknown> {
    const { fallbackModels } = this.config;
    const chosen = request.options?.model;
    const model = chosen ?? this.config.model;
    return {
      model,
      ...(!chosen && fallbackModels.length > 0 ? { models: [model, ...fallbackModels] } : {}),
      messages: buildMessages(request),
      max_tokens: maxTokensFor(request),
      ...(n > 1 ? { n } : {}),
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

async function readJson(response: Response, { onDelta, bounds, choices }: ReadContext): Promise<Completion> {
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
  const texts = new Map<number, string>();
  let finishReason: string | undefined;
  for (const [position, choice] of parsed.choices.entries()) {
    const index = choiceIndex(choice?.index ?? position, choices);
    if (index === undefined) continue;
    if (choice?.finish_reason === 'error') throw new LlmResponseError('LLM response finished with an error');
    const text = choice?.message?.content ?? '';
    if (text.length > bounds.maxChars) throw new LlmOutputTooLargeError(bounds.maxChars);
    texts.set(index, text);
    if (index === 0) finishReason = choice?.finish_reason ?? undefined;
  }
  const first = texts.get(0);
  if (first) onDelta?.(first);
  return { texts: answers(texts), model: parsed.model, usage: toUsage(parsed.usage), finishReason, id: parsed.id };
}

/** A choice's index when it is one of the `choices` asked for; anything else is ignored. */
function choiceIndex(index: unknown, choices: number): number | undefined {
  return Number.isInteger(index) && (index as number) >= 0 && (index as number) < choices ? (index as number) : undefined;
}

/** The choices' texts in index order, choice 0 first even when empty (the caller refuses that), empty others left out. */
function answers(texts: Map<number, string>): string[] {
  const others = [...texts.entries()].filter(([index, text]) => index > 0 && text).sort(([a], [b]) => a - b);
  return [texts.get(0) ?? '', ...others.map(([, text]) => text)];
}

interface StreamState {
  texts: Map<number, string>;
  model?: string;
  usage?: TokenUsage;
  /** Choice 0's. */
  finishReason?: string;
  id?: string;
  done: boolean;
  failure?: LlmError;
}

async function readStream(response: Response, context: ReadContext): Promise<Completion> {
  const { bounds, signal } = context;
  const state: StreamState = { texts: new Map(), done: false };
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
  return { texts: answers(state.texts), model: state.model, usage: state.usage, finishReason: state.finishReason, id: state.id };
}

function onStreamEvent(event: EventSourceMessage, state: StreamState, { onDelta, signal, bounds, choices }: ReadContext): void {
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
  for (const choice of chunk.choices ?? []) {
    const index = choiceIndex(choice?.index ?? 0, choices);
    if (index === undefined) continue;
    const piece = choice.delta?.content;
    if (piece) {
      const text = state.texts.get(index) ?? '';
      // Checked before the piece is passed on, so the deltas never add up to more than the limit (per choice).
      if (text.length + piece.length > bounds.maxChars) {
        state.failure = new LlmOutputTooLargeError(bounds.maxChars);
        return;
      }
      state.texts.set(index, text + piece);
      if (index === 0) onDelta?.(piece);
    }
    if (index === 0 && choice.finish_reason) state.finishReason = choice.finish_reason;
    if (choice.finish_reason === 'error') {
      state.failure = new LlmResponseError('LLM stream finished with an error');
      return;
    }
  }
}

function streamEventError(data: string): LlmResponseError {
  try {
    const parsed = JSON.parse(data) as { error?: ProviderError } & ProviderError;
    return providerError('LLM stream sent an error event', parsed.error ?? parsed);
  } catch {
    return new LlmResponseError(`LLM stream sent an error event: ${truncateProviderMessage(data)}`);
  }
}
