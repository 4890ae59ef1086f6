/**
 * What a user may say about a generation besides its prompt (POST /generate-content `options`): the one
 * vocabulary the API validates, the job record keeps and the prompt builders and output contracts read.
 */
export const TONES = ['professional', 'friendly', 'casual', 'formal', 'persuasive', 'informative', 'playful', 'witty', 'inspirational', 'empathetic', 'urgent'] as const;
export type Tone = (typeof TONES)[number];

export const LENGTHS = ['short', 'medium', 'long'] as const;
export type Length = (typeof LENGTHS)[number];

/** Caption platforms and what each accepts (characters as String#length counts them would undercount emoji: see output contracts). */
export const PLATFORMS = ['x', 'instagram', 'linkedin', 'facebook', 'tiktok'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const PLATFORM_LIMITS: Readonly<Record<Platform, { maxChars: number; maxHashtags: number }>> = {
  x: { maxChars: 280, maxHashtags: 5 },
  instagram: { maxChars: 2200, maxHashtags: 30 },
  linkedin: { maxChars: 3000, maxHashtags: 30 },
  facebook: { maxChars: 63_206, maxHashtags: 30 },
  tiktok: { maxChars: 2200, maxHashtags: 30 },
};

export const MAX_VARIANTS = 5;
export const MAX_KEYWORDS = 10;
export const KEYWORD_MAX_LENGTH = 50;
export const AUDIENCE_MAX_LENGTH = 200;
export const MIN_WORDS = 10;
export const MAX_WORDS = 5000;

export interface GenerationOptions {
  tone?: Tone;
  /** A BCP 47 language tag (`en`, `pt-BR`, `zh-Hant`), canonicalized. */
  language?: string;
  length?: Length;
  maxWords?: number;
  audience?: string;
  keywords?: string[];
  /** Captions only. */
  platform?: Platform;
  /** 1-5 answers in one job. */
  variants?: number;
  /** One of LLM_ALLOWED_MODELS. */
  model?: string;
}
