import type { ContentType, GenerationOptions, TokenUsage } from '@app/common';

/** One generation: the user's prompt for one content type, shaped by their options. */
export interface GenerationRequest {
  prompt: string;
  contentType: ContentType;
  /** Tone, language, length, audience, keywords, platform, variants (answers wanted) and model (already allow-listed). */
  options?: GenerationOptions;
  /**
   * Ask the model to fix an earlier answer that broke its content type's output contract: one answer back,
   * whatever `options.variants` says.
   */
  repair?: { text: string; problems: string[] };
  correlationId?: string;
  /** Stops the generation at once, mid-stream too (worker shutdown, cancel); the provider rethrows the abort as-is. */
  signal?: AbortSignal;
  /**
   * Called with each streamed text piece of the first answer, in order; their concatenation equals `text`
   * and never exceeds LLM_MAX_OUTPUT_CHARS (an answer that would is an `LlmOutputTooLargeError` instead).
   */
  onDelta?: (text: string) => void;
  /**
   * Called with each provider call's usage as soon as that call ends (a generation may make several: one per
   * variant the model would not give as choices), so a generation stopped midway still tells what it cost.
   */
  onUsage?: (usage: TokenUsage) => void;
}

export interface GenerationResult {
  /** The first answer (`texts[0]`). */
  text: string;
  /** Every answer: `options.variants` of them (1 by default), from one call with several choices or from several calls. */
  texts: string[];
  provider: 'openrouter' | 'offline';
  /** The model that actually answered (may be a fallback model). */
  model: string;
  /** Summed over every call this generation made. */
  usage?: TokenUsage;
  finishReason?: string;
  generationId?: string;
  durationMs: number;
}

/** The LLM behind one interface; the abstract class is the DI token. Failures are `LlmError`s. */
export abstract class LlmProvider {
  abstract readonly name: 'openrouter' | 'offline';
  /** The model asked for when a request names none (an answer may come from a fallback model: `GenerationResult.model`). */
  abstract readonly model: string;
  abstract generate(request: GenerationRequest): Promise<GenerationResult>;
}
