import type { ContentType, GenerationOptions } from '@app/common';

/** One section of a blog post outline. */
export interface OutlineSection {
  heading: string;
  points: string[];
}

/** A product description in its parts. */
export interface ProductCopy {
  headline: string;
  body: string;
  bullets: string[];
}

/** What checking one answer against its content type's contract found, and the structure read from it. */
export interface OutputCheck {
  ok: boolean;
  /** Human-readable, one per broken rule ("the caption has 312 characters; x allows 280"). */
  problems: string[];
  /** Blog Post Outline: the sections read from the answer. */
  outline?: OutlineSection[];
  /** Product Description: headline, body and bullets read from the answer. */
  product?: ProductCopy;
}

// INTERFACE ONLY — implemented by the output-contracts work (helper B) in this session.
export function checkOutput(_contentType: ContentType, _text: string, _options: GenerationOptions = {}): OutputCheck {
  throw new Error('checkOutput is not implemented yet');
}
