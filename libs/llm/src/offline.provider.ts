import { type ContentType, type GenerationOptions, type Length, MAX_VARIANTS, type Tone } from '@app/common';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LlmOutputTooLargeError } from './llm.errors';
import { GenerationRequest, GenerationResult, LlmProvider } from './llm-provider';
import { checkOutput, countWords, findHashtags } from './output-contracts';
import { CONTENT_PROMPTS } from './prompts/build-messages';

export const OFFLINE_NOTICE = '[Offline sample — no LLM was called]';

const PIECES = 10;
const STOP_WORDS = new Set(
  'about after also an and are for from have into just like more most our over some than that the their them then they this those through very was what when which with your you'.split(
    ' ',
  ),
);

export interface OfflineProviderOptions {
  /** LLM_MAX_OUTPUT_CHARS, enforced as the OpenRouter client does; unbounded when unset. */
  maxOutputChars?: number;
}

/** Which sample to write: the options, which of the variants, and whether it answers a repair request. */
export interface OfflineSample {
  options?: GenerationOptions;
  /** 0-based; each variant reads differently. */
  variant?: number;
  repaired?: boolean;
}

/**
 * Deterministic sample text shaped like each content type, used when no API key is set. It keeps the output
 * contracts and follows the options (length, maxWords, tone, keywords, platform, variants) so everything can be
 * tried offline; it cannot write another language, and its first line says so along with being offline.
 * It never claims to be a model, and ignores `options.model`.
 */
export class OfflineProvider extends LlmProvider {
  readonly name = 'offline' as const;
  readonly model = 'offline';
  private readonly maxOutputChars: number;

  constructor(options: OfflineProviderOptions = {}) {
    super();
    this.maxOutputChars = options.maxOutputChars ?? Infinity;
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const startedAt = performance.now();
    const options = request.options ?? {};
    const count = request.repair ? 1 : Math.min(Math.max(options.variants ?? 1, 1), MAX_VARIANTS);
    const texts = Array.from({ length: count }, (_, variant) => offlineText(request.prompt, request.contentType, { options, variant, repaired: !!request.repair }));
    // The whole text is known up front, so it fails before any delta rather than midway as a stream would.
    if (texts.some((text) => text.length > this.maxOutputChars)) throw new LlmOutputTooLargeError(this.maxOutputChars);
    const [text] = texts;
    for (const piece of splitPieces(text, PIECES)) {
      await this.pause(request.signal);
      request.signal?.throwIfAborted();
      request.onDelta?.(piece);
    }
    const promptTokens = wordsIn(request.prompt);
    const completionTokens = texts.reduce((sum, answer) => sum + wordsIn(answer), 0);
    const usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
    request.onUsage?.(usage);
    return {
      text,
      texts,
      provider: 'offline',
      model: 'offline',
      usage,
      finishReason: 'stop',
      durationMs: Math.round(performance.now() - startedAt),
    };
  }

  /** Yields to the event loop before the next piece, as a stream would; an abort ends the wait at once. */
  private async pause(signal?: AbortSignal): Promise<void> {
    try {
      await nextTurn(undefined, { signal });
    } catch (error) {
      // Node's timers reject with an AbortError of their own; the caller gets its own reason back, as from fetch.
      throw signal?.aborted ? signal.reason : error;
    }
  }
}

/** The first line: offline, and which asked-for language it could not write. */
export function offlineNotice(options: GenerationOptions = {}, repaired = false): string {
  const notes = [...(options.language ? [`${options.language} not applied`] : []), ...(repaired ? ['revised'] : [])];
  return notes.length === 0 ? OFFLINE_NOTICE : `${OFFLINE_NOTICE.slice(0, -1)}; ${notes.join('; ')}]`;
}

/**
 * The sample text for a prompt; the same input always gives the same output. Drafts are tried from the fullest
 * (sized by `length`) to a bare minimum, and the first one that keeps the output contract within the word
 * budget (`maxWords`, else the length's upper bound) wins; the minimum keeps the contract within its tolerance.
 */
export function offlineText(prompt: string, contentType: ContentType, sample: OfflineSample = {}): string {
  const options = sample.options ?? {};
  const context: DraftContext = {
    topic: topicOf(prompt),
    notice: offlineNotice(options, sample.repaired),
    variant: (sample.variant ?? 0) % MAX_VARIANTS,
    tone: options.tone,
    keywords: options.keywords ?? [],
    maxHashtags: options.platform === 'x' ? 3 : 5,
  };
  // A caption for X is short unless asked otherwise.
  const length = options.length ?? (options.platform === 'x' ? 'short' : 'medium');
  const budget = options.maxWords ?? (options.length ? CONTENT_PROMPTS[contentType].words[options.length].max : Infinity);
  const drafts = DRAFTS[contentType](length).map((plan) => WRITERS[contentType](context, plan));
  const fits = (text: string) => checkOutput(contentType, text, options).ok && countWords(text, options.language) <= budget;
  return drafts.find(fits) ?? drafts.find((text) => checkOutput(contentType, text, options).ok) ?? drafts.at(-1)!;
}

interface DraftContext {
  topic: string;
  notice: string;
  variant: number;
  tone?: Tone;
  keywords: string[];
  maxHashtags: number;
}

/** How much of a draft to write; `minimal` drops the prompt's words too, so nothing the user typed can overflow it. */
interface Plan {
  sections: number;
  points: number;
  paragraphs: number;
  keywords: boolean;
  hashtags: number;
  minimal?: boolean;
}

const plan = (overrides: Partial<Plan>): Plan => ({ sections: 3, points: 2, paragraphs: 1, keywords: true, hashtags: 3, ...overrides });
const MINIMAL = plan({ sections: 3, points: 0, paragraphs: 1, keywords: false, hashtags: 0, minimal: true });

const DRAFTS: Readonly<Record<ContentType, (length: Length) => Plan[]>> = {
  'Blog Post Outline': (length) => [
    plan({ sections: { short: 4, medium: 7, long: 9 }[length], points: { short: 2, medium: 2, long: 4 }[length] }),
    plan({ sections: 3, points: 1 }),
    plan({ sections: 3, points: 0, keywords: false }),
    MINIMAL,
  ],
  'Product Description': (length) => [
    plan({ points: { short: 3, medium: 5, long: 7 }[length], paragraphs: { short: 1, medium: 1, long: 2 }[length] }),
    plan({ points: 2 }),
    plan({ points: 1, keywords: false }),
    MINIMAL,
  ],
  'Social Media Caption': (length) => [
    plan({ paragraphs: { short: 1, medium: 2, long: 3 }[length], hashtags: 5 }),
    plan({ paragraphs: 1, hashtags: 3 }),
    plan({ paragraphs: 1, hashtags: 1, keywords: false }),
    MINIMAL,
  ],
};

const WRITERS: Readonly<Record<ContentType, (context: DraftContext, plan: Plan) => string>> = {
  'Blog Post Outline': outline,
  'Product Description': product,
  'Social Media Caption': caption,
};

/** Per variant: a title ending, a product tagline, one-word headings for the minimal draft, and a caption emoji. */
const VARIANTS = [
  { suffix: 'A Practical Guide', tagline: 'made for the way you work', minimal: ['Why', 'How', 'Next'], emoji: '✨' },
  { suffix: 'Everything You Need to Know', tagline: 'built to last', minimal: ['Basics', 'Practice', 'Results'], emoji: '🚀' },
  { suffix: 'A Fresh Look', tagline: 'designed around you', minimal: ['Context', 'Method', 'Outcome'], emoji: '🌟' },
  { suffix: 'The Essentials', tagline: 'simple, smart and reliable', minimal: ['Problem', 'Solution', 'Impact'], emoji: '💡' },
  { suffix: 'Step by Step', tagline: 'ready when you are', minimal: ['Start', 'Grow', 'Review'], emoji: '🔥' },
] as const;

/** How each tone opens and closes. */
const TONE_LINES: Readonly<Record<Tone | 'default', { opener: string; close: string }>> = {
  default: { opener: 'Here is what you need to know about', close: 'Tell us what you think in the comments!' },
  professional: { opener: 'A clear, practical overview of', close: 'Get in touch to learn more.' },
  friendly: { opener: "Let's talk about", close: "We'd love to hear from you!" },
  casual: { opener: 'So, about', close: 'Drop us a line anytime.' },
  formal: { opener: 'This text presents', close: 'Further information is available on request.' },
  persuasive: { opener: 'Discover why everyone is choosing', close: "Don't wait: try it today." },
  informative: { opener: 'The facts you need on', close: 'Read on to learn more.' },
  playful: { opener: 'Guess what? It is all about', close: 'Come play with us!' },
  witty: { opener: 'Plot twist: the star of the show is', close: 'You know you want to.' },
  inspirational: { opener: 'Dream bigger with', close: 'Your next chapter starts now.' },
  empathetic: { opener: 'We know it matters to you, so here is', close: "We're here for you every step of the way." },
  urgent: { opener: "Act now: don't miss out on", close: 'Hurry, time is running out!' },
};

const SECTIONS = ['Why It Matters', 'Getting Started', 'Best Practices', 'Real-World Examples', 'Common Pitfalls', 'Tools and Resources', 'Measuring Success', 'Looking Ahead'];
const POINTS = ['Key ideas and context', 'What to do first', 'Habits that work', 'Mistakes to avoid', 'A short example'];
const FEATURES = ['Thoughtful design', 'Durable, high-quality materials', 'Simple to set up and use', 'Saves you time every day', 'Reliable results you can count on', 'A great value for what it offers', 'Backed by friendly support'];

function outline(context: DraftContext, plan: Plan): string {
  const { topic, variant } = context;
  if (plan.minimal) return [context.notice, '', ...VARIANTS[variant].minimal.map((heading) => `## ${heading}`)].join('\n');
  const title = titleCase(topic);
  const lines = [context.notice, '', `# ${title}: ${VARIANTS[variant].suffix}`, '', `${toneOf(context).opener} ${topic}.`, ''];
  const middle = Array.from({ length: Math.max(0, plan.sections - 2) }, (_, index) => SECTIONS[(index + variant) % SECTIONS.length]);
  const sections = ['Introduction', ...middle, 'Conclusion'];
  sections.forEach((heading, index) => {
    lines.push(`## ${heading}`);
    if (index === 0 && plan.keywords && context.keywords.length > 0) lines.push(`- Covering ${listOf(context.keywords)}`);
    if (index === sections.length - 1 && plan.points > 0) lines.push(`- A recap of ${topic}`, `- ${toneOf(context).close}`);
    else for (let point = 0; point < plan.points; point++) lines.push(`- ${POINTS[(index + point) % POINTS.length]}`);
    lines.push('');
  });
  return lines.join('\n').trimEnd();
}

function product(context: DraftContext, plan: Plan): string {
  const { topic, variant } = context;
  if (plan.minimal) {
    const [headline, body, bullet] = VARIANTS[variant].minimal;
    return [context.notice, '', `# ${headline}`, '', `${body}.`, '', `- ${bullet}`].join('\n');
  }
  const title = titleCase(topic);
  const tone = toneOf(context);
  const paragraphs = [`${tone.opener} ${topic}: ${VARIANTS[variant].tagline}.`];
  if (plan.keywords && context.keywords.length > 0) paragraphs.push(`Built with ${listOf(context.keywords)} in mind.`);
  if (plan.paragraphs > 1) paragraphs.push('Every detail is chosen to make your day easier, from the first use to the hundredth.');
  const bullets = Array.from({ length: plan.points }, (_, index) => `- ${FEATURES[(index + variant) % FEATURES.length]}`);
  return [context.notice, '', `# ${title}`, '', ...paragraphs.flatMap((paragraph) => [paragraph, '']), ...bullets, '', tone.close].join('\n');
}

function caption(context: DraftContext, plan: Plan): string {
  const { topic, variant } = context;
  const { emoji, minimal } = VARIANTS[variant];
  if (plan.minimal) return [context.notice, '', `${emoji} ${minimal[0]}!`].join('\n');
  const tone = toneOf(context);
  const sentences = [`${emoji} ${tone.opener} ${topic}!`];
  if (plan.keywords && context.keywords.length > 0) sentences.push(`All about ${listOf(context.keywords)}.`);
  if (plan.paragraphs > 1) sentences.push('Tap the link in our bio to learn more. 👇');
  if (plan.paragraphs > 2) sentences.push(tone.close);
  const tags = hashtags(topic, plan.keywords ? context.keywords : []).slice(0, Math.min(plan.hashtags, context.maxHashtags));
  return [context.notice, '', sentences.join(' '), ...(tags.length > 0 ? ['', tags.join(' ')] : [])].join('\n');
}

function toneOf(context: DraftContext): { opener: string; close: string } {
  return TONE_LINES[context.tone ?? 'default'];
}

function listOf(words: string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function topicOf(prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, ' ').trim().replace(/[.!?]+$/, '');
  if (!oneLine) return 'your topic';
  return oneLine.length > 80 ? `${oneLine.slice(0, 80).replace(/\s+\S*$/, '')}…` : oneLine;
}

function titleCase(text: string): string {
  return text.replace(/(^|\s)(\p{Ll})/gu, (_match, space: string, letter: string) => space + letter.toUpperCase());
}

/** Hashtags from the keywords first, then the prompt's longer words, padded with generic ones to at least 3. */
function hashtags(topic: string, keywords: string[]): string[] {
  const fromKeywords = keywords.map((keyword) => (keyword.match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).map((word, index) => (index === 0 ? word.toLowerCase() : titleCase(word))).join(''));
  const words = topic.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
  const fromTopic = words.filter((word) => word.length >= 4 && !STOP_WORDS.has(word)).slice(0, 4);
  const tags = [...new Set([...fromKeywords, ...fromTopic])].filter((tag) => findHashtags(`#${tag}`).length === 1);
  for (const fallback of ['content', 'inspiration', 'community']) {
    if (tags.length >= 3) break;
    if (!tags.includes(fallback)) tags.push(fallback);
  }
  return tags.map((tag) => `#${tag}`);
}

/** Whitespace-separated words: the offline stand-in for tokens. */
function wordsIn(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** About `count` pieces cut at word boundaries, so no piece splits an emoji. */
function splitPieces(text: string, count: number): string[] {
  const words = text.split(/(?<=\s)(?=\S)/);
  const size = Math.ceil(words.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += size) pieces.push(words.slice(i, i + size).join(''));
  return pieces;
}
