import type { OpenRouterConfig } from '@app/config';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import {
  LlmEmptyResponseError,
  LlmError,
  llmErrorFromStatus,
  LlmNetworkError,
  LlmResponseError,
  LlmTimeoutError,
  parseRetryAfter,
  truncateProviderMessage,
} from './llm.errors';
import { GenerationRequest, GenerationResult, LlmProvider, LlmUsage } from './llm-provider';
import { SYSTEM_PROMPTS } from './system-prompts';

const MAX_TOKENS = 1500;
const TEMPERATURE = 0.7;

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
  usage?: LlmUsage;
  finishReason?: string;
  id?: string;
}

/**
 * The OpenRouter chat completions API (or any OpenAI-compatible base URL), streamed over SSE.
 * Constructible without Nest so tests can point it at a local stub.
 */
export class OpenRouterClient extends LlmProvider {
  readonly name = 'openrouter' as const;

  constructor(private readonly config: OpenRouterConfig) {
    super();
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const startedAt = performance.now();
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    try {
      const response = await fetch(`${this.config.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(this.body(request)),
        signal,
      });
      if (!response.ok) throw await statusError(response);
      const contentType = response.headers.get('content-type') ?? '';
      const completion = contentType.includes('text/event-stream')
        ? await readStream(response, request.onDelta)
        : await readJson(response, request.onDelta);
      if (!completion.text) throw new LlmEmptyResponseError();
      return {
        text: completion.text,
        provider: 'openrouter',
        model: completion.model ?? this.config.model,
        usage: completion.usage,
        finishReason: completion.finishReason,
        generationId: response.headers.get('x-generation-id') ?? completion.id,
        durationMs: Math.round(performance.now() - startedAt),
      };
    } catch (error) {
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
      max_tokens: MAX_TOKENS,
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

async function statusError(response: Response): Promise<LlmError> {
  const body = await response.text().catch(() => '');
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

function toUsage(usage: ChatUsage | undefined): LlmUsage | undefined {
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

async function readJson(response: Response, onDelta: GenerationRequest['onDelta']): Promise<Completion> {
  const body = await response.text();
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
  if (text) onDelta?.(text);
  return { text, model: parsed.model, usage: toUsage(parsed.usage), finishReason: choice?.finish_reason ?? undefined, id: parsed.id };
}

async function readStream(response: Response, onDelta: GenerationRequest['onDelta']): Promise<Completion> {
  const state: Completion & { done: boolean; failure?: LlmError } = { text: '', done: false };
  const onEvent = (event: EventSourceMessage): void => {
    if (state.done || state.failure) return;
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
      state.text += piece;
      onDelta?.(piece);
    }
    if (choice?.finish_reason) state.finishReason = choice.finish_reason;
    if (choice?.finish_reason === 'error') state.failure = new LlmResponseError('LLM stream finished with an error');
  };
  const parser = createParser({ onEvent });
  if (!response.body) throw new LlmResponseError('LLM stream had no body');
  const decoder = new TextDecoder();
  // Leaving the loop early cancels the body, which releases the connection.
  for await (const bytes of response.body) {
    parser.feed(decoder.decode(bytes, { stream: true }));
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

function streamEventError(data: string): LlmResponseError {
  try {
    const parsed = JSON.parse(data) as { error?: ProviderError } & ProviderError;
    return providerError('LLM stream sent an error event', parsed.error ?? parsed);
  } catch {
    return new LlmResponseError(`LLM stream sent an error event: ${truncateProviderMessage(data)}`);
  }
}
