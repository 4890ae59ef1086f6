import { type ContentType, type GenerationOptions, type Platform, PLATFORM_LIMITS } from '@app/common';

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
  /** Human-readable, one per broken rule ("the caption has 312 characters; X allows 280"). */
  problems: string[];
  /** Blog Post Outline: the sections read from the answer (when it has any). */
  outline?: OutlineSection[];
  /** Product Description: headline, body and bullets read from the answer. */
  product?: ProductCopy;
}

/** A caption without a platform is held to Instagram's limits: the tightest of the common long-form platforms, and 30 hashtags. */
export const DEFAULT_CAPTION_LIMITS = PLATFORM_LIMITS.instagram;
export const MIN_OUTLINE_SECTIONS = 3;

export const PLATFORM_NAMES: Readonly<Record<Platform, string>> = { x: 'X', instagram: 'Instagram', linkedin: 'LinkedIn', facebook: 'Facebook', tiktok: 'TikTok' };

/**
 * The most words an answer may have under `maxWords`: models cannot count exactly, so 10% more, and at least
 * 5 more for the short limits where 10% is less than a word or two.
 */
export function allowedWords(maxWords: number): number {
  return maxWords + Math.max(5, Math.ceil(maxWords * 0.1));
}

/**
 * Checks one answer against its content type's output contract and reads its structure. Pure: the same
 * answer and options always give the same check.
 * - Caption: at most the platform's characters (counted as Unicode code points: an emoji is one or a few, never
 *   split in halves as UTF-16 length would count it) and hashtags (x: 5, others 30).
 * - Outline: at least three sections, each a Markdown heading with its bullet points.
 * - Product description: a headline, prose and a bullet list.
 * - Any type with `maxWords`: no more than `allowedWords(maxWords)` words.
 */
export function checkOutput(contentType: ContentType, text: string, options: GenerationOptions = {}): OutputCheck {
  const trimmed = text.trim();
  if (!trimmed) return { ok: false, problems: ['the answer is empty'] };
  const problems: string[] = [];
  const check: OutputCheck = { ok: true, problems };
  switch (contentType) {
    case 'Social Media Caption':
      problems.push(...captionProblems(trimmed, options.platform));
      break;
    case 'Blog Post Outline': {
      const outline = readOutline(trimmed);
      if (outline.length > 0) check.outline = outline;
      if (outline.length < MIN_OUTLINE_SECTIONS) {
        problems.push(`the outline has ${outline.length} section${outline.length === 1 ? '' : 's'}; it needs at least ${MIN_OUTLINE_SECTIONS}, each a Markdown heading (## Heading) with bullet points`);
      }
      break;
    }
    case 'Product Description': {
      const product = readProduct(trimmed);
      check.product = product;
      if (!product.headline) problems.push('the product description has no headline');
      if (!product.body) problems.push('the product description has no prose paragraph besides the headline and the list');
      if (product.bullets.length === 0) problems.push('the product description has no bullet list of features');
      break;
    }
  }
  if (options.maxWords !== undefined) {
    const words = countWords(trimmed, options.language);
    if (words > allowedWords(options.maxWords)) problems.push(`the answer has ${words} words; at most ${options.maxWords} were asked for`);
  }
  check.ok = problems.length === 0;
  return check;
}

/** Characters as Unicode code points (see checkOutput). */
export function countChars(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A `#` that starts a word (not `##`, `a#b`, `&#38;` or a URL fragment), then letters, marks, digits or `_`, with at least one letter. */
const HASHTAG = /(?<![\p{L}\p{M}\p{N}_&#/])#[\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*/gu;

export function findHashtags(text: string): string[] {
  return text.match(HASHTAG) ?? [];
}

/** Words as Intl.Segmenter finds them, so scripts written without spaces (Chinese, Japanese, Thai) count too. */
export function countWords(text: string, language?: string): number {
  let count = 0;
  for (const segment of segmenter(language).segment(text)) if (segment.isWordLike) count++;
  return count;
}

const segmenters = new Map<string, Intl.Segmenter>();

function segmenter(language = 'en'): Intl.Segmenter {
  let found = segmenters.get(language);
  if (!found) {
    try {
      found = new Intl.Segmenter(language, { granularity: 'word' });
    } catch {
      found = new Intl.Segmenter('en', { granularity: 'word' });
    }
    segmenters.set(language, found);
  }
  return found;
}

function captionProblems(text: string, platform: Platform | undefined): string[] {
  const limits = platform ? PLATFORM_LIMITS[platform] : DEFAULT_CAPTION_LIMITS;
  const where = platform ? `${PLATFORM_NAMES[platform]} allows` : 'a caption may have at most';
  const problems: string[] = [];
  const chars = countChars(text);
  if (chars > limits.maxChars) problems.push(`the caption has ${chars} characters; ${where} ${limits.maxChars}`);
  const hashtags = findHashtags(text).length;
  if (hashtags > limits.maxHashtags) problems.push(`the caption has ${hashtags} hashtags; ${where} ${limits.maxHashtags}`);
  return problems;
}

type Line = { kind: 'heading'; level: number; text: string } | { kind: 'item'; text: string } | { kind: 'prose'; text: string } | { kind: 'blank' };

const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
/** `-`, `*`, `+`, `•` and similar bullets, or `1.`/`1)` numbered items. */
const ITEM = /^\s*(?:[-*+•‣◦▪▸–—]|\d{1,3}[.)])\s+(.*\S)\s*$/;
/** A line that is all bold (`**Features**`, `__Why it matters:__`), which models often use as a heading. */
const BOLD_LINE = /^\s*(\*\*|__)(.+?)\1:?\s*$/;

function readLines(text: string): Line[] {
  return text.split(/\r?\n/).map((raw): Line => {
    const heading = HEADING.exec(raw);
    if (heading) return { kind: 'heading', level: heading[1].length, text: cleanHeading(heading[2]) };
    const item = ITEM.exec(raw);
    if (item) return { kind: 'item', text: plain(item[1]) };
    return raw.trim() ? { kind: 'prose', text: raw.trim() } : { kind: 'blank' };
  });
}

/** Without Markdown emphasis, a leading section number (`1.`, `2)`, `IV.`, `Section 3:`) or a trailing colon. */
function cleanHeading(text: string): string {
  return plain(text)
    .replace(/^(?:[Ss]ection\s+)?(?:\d{1,3}[.):]|[IVXLC]{1,6}\.|\d{1,3}\s+[-–—])\s+/, '')
    .replace(/:$/, '')
    .trim();
}

function plain(text: string): string {
  return text
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(?<![\p{L}\p{N}])([*_])(\S(?:.*?\S)?)\1(?![\p{L}\p{N}])/gu, '$2')
    .replace(/`([^`]+)`/g, '$1')
    .trim();
}

/**
 * The sections of an outline: Markdown headings (any level, numbered or not) with the list items under them.
 * A lone `#` heading that comes first is the title, not a section; sections are the shallowest remaining level, and deeper
 * headings become points of their section. Without Markdown headings, all-bold lines are read as headings.
 */
export function readOutline(text: string): OutlineSection[] {
  let lines = readLines(text);
  const headings = lines.filter((line): line is Extract<Line, { kind: 'heading' }> => line.kind === 'heading');
  const titles = headings.filter((line) => line.level === 1);
  const title = titles.length === 1 && headings[0] === titles[0] ? titles[0] : undefined;
  let candidates = headings.filter((line) => line !== title);
  if (candidates.length === 0) {
    lines = lines.map((line): Line => {
      const bold = line.kind === 'prose' ? BOLD_LINE.exec(line.text) : null;
      return bold ? { kind: 'heading', level: 2, text: cleanHeading(bold[2]) } : line;
    });
    candidates = lines.filter((line): line is Extract<Line, { kind: 'heading' }> => line.kind === 'heading');
  }
  if (candidates.length === 0) return [];
  const sectionLevel = Math.min(...candidates.map((line) => line.level));
  const sections: OutlineSection[] = [];
  for (const line of lines) {
    if (line.kind === 'heading' && line !== title && line.level === sectionLevel) {
      if (line.text) sections.push({ heading: line.text, points: [] });
      continue;
    }
    const current = sections.at(-1);
    if (!current) continue;
    if (line.kind === 'item' && line.text) current.points.push(line.text);
    else if (line.kind === 'heading' && line.level > sectionLevel && line.text) current.points.push(line.text);
  }
  return sections;
}

/**
 * A product description's parts: the headline is the first heading (or, without one, the first line that is not a list item), the
 * bullets every list item, and the body the prose paragraphs after the headline (a preamble before it is not copy),
 * blank-line separated; other headings are dropped.
 */
export function readProduct(text: string): ProductCopy {
  const lines = readLines(text);
  let headlineAt = lines.findIndex((line) => line.kind === 'heading' && line.text);
  if (headlineAt < 0) headlineAt = lines.findIndex((line) => line.kind === 'prose');
  const headlineLine = lines[headlineAt];
  const headline = headlineLine?.kind === 'heading' || headlineLine?.kind === 'prose' ? plain(headlineLine.text) : '';
  const bullets: string[] = [];
  const paragraphs: string[][] = [[]];
  lines.forEach((line, index) => {
    if (index === headlineAt) return;
    if (line.kind === 'item') {
      if (line.text) bullets.push(line.text);
      paragraphs.push([]);
    } else if (line.kind === 'prose' && index > headlineAt) {
      paragraphs.at(-1)!.push(plain(line.text));
    } else {
      paragraphs.push([]);
    }
  });
  const body = paragraphs
    .filter((paragraph) => paragraph.length > 0)
    .map((paragraph) => paragraph.join(' '))
    .join('\n\n');
  return { headline, body, bullets };
}
