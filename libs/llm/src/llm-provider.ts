import type { ContentType, TokenUsage } from '@app/common';

/** One generation: the user's prompt for one content type. */
export interface GenerationRequest {
  prompt: string;
  contentType: ContentType;
  correlationId?: string;
  /** Stops the generation at once, mid-stream too (worker shutdown); the provider rethrows the abort as-is. */
  signal?: AbortSignal;
  /**
   * Called with each streamed text piece, in order; their concatenation equals the final text and never
   * exceeds LLM_MAX_OUTPUT_CHARS (an answer that would is an `LlmOutputTooLargeError` instead).
   */
  onDelta?: (text: string) => void;
}

export interface GenerationResult {
  text: string;
  provider: 'openrouter' | 'offline';
  /** The model that actually answered (may be a fallback model). */
  model: string;
  usage?: TokenUsage;
  finishReason?: string;
  generationId?: string;
  durationMs: number;
}

/** The LLM behind one interface; the abstract class is the DI token. Failures are `LlmError`s. */
export abstract class LlmProvider {
  abstract readonly name: 'openrouter' | 'offline';
  /** The model asked for first (an answer may come from a fallback model: `GenerationResult.model`). */
  abstract readonly model: string;
  abstract generate(request: GenerationRequest): Promise<GenerationResult>;
}
