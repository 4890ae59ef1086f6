import type { ContentType, GenerationOptions, Length } from '@app/common';

/** Everything the prompt of one content type says, as data: `buildMessages` turns it into chat messages. */
export interface ContentPrompt {
  contentType: ContentType;
  /** Who writes, and what: the system prompt's opening sentence. */
  role: string;
  /** The shape the answer must have, one rule per line: what `checkOutput` reads back. */
  structure: readonly string[];
  /** How the structure grows with `length` (used for `medium` when no length is given). */
  shape: Readonly<Record<Length, string>>;
  /** The word range asked for with each `length`. */
  words: Readonly<Record<Length, { min: number; max: number }>>;
  /** `max_tokens` for an answer without a longer `length` or `maxWords`. */
  maxTokens: number;
  /** Rules from the options only this content type reads (a caption's platform). */
  optionRules?: (options: GenerationOptions) => string[];
}
