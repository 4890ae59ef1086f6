import type { ContentType } from '@app/common';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LlmOutputTooLargeError } from './llm.errors';
import { GenerationRequest, GenerationResult, LlmProvider } from './llm-provider';

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

/**
 * Deterministic sample text shaped like each content type, used when no API key is set.
 * It says it is offline on its first line and never claims to be a model.
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
    const text = offlineText(request.prompt, request.contentType);
    // The whole text is known up front, so it fails before any delta rather than midway as a stream would.
    if (text.length > this.maxOutputChars) throw new LlmOutputTooLargeError(this.maxOutputChars);
    for (const piece of splitPieces(text, PIECES)) {
      await this.pause(request.signal);
      request.signal?.throwIfAborted();
      request.onDelta?.(piece);
    }
    const promptTokens = countWords(request.prompt);
    const completionTokens = countWords(text);
    return {
      text,
      texts: [text],
      provider: 'offline',
      model: 'offline',
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
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

/** The sample text for a prompt; the same input always gives the same output. */
export function offlineText(prompt: string, contentType: ContentType): string {
  const topic = topicOf(prompt);
  const title = titleCase(topic);
  switch (contentType) {
    case 'Blog Post Outline':
      return [
        OFFLINE_NOTICE,
        '',
        `# ${title}: A Practical Guide`,
        '',
        '## Introduction',
        `- Why ${topic} matters right now`,
        '- What readers will learn from this post',
        '',
        `## 1. Understanding ${title}`,
        '- Key definitions and context',
        '- Common misconceptions',
        '',
        '## 2. Why It Matters',
        '- Benefits for individuals and teams',
        '- What happens when it is ignored',
        '',
        '## 3. Getting Started',
        '- First steps and quick wins',
        '- Tools and resources',
        '',
        '## 4. Best Practices',
        '- Habits that work',
        '- Pitfalls to avoid',
        '',
        '## 5. Real-World Examples',
        '- A short case study',
        '- Lessons learned',
        '',
        '## Conclusion',
        `- A recap of the essentials of ${topic}`,
        '- A call to action for the reader',
      ].join('\n');
    case 'Product Description':
      return [
        OFFLINE_NOTICE,
        '',
        `# ${title}: Made for the Way You Work`,
        '',
        '## Key Features',
        `- Thoughtful design built around ${topic}`,
        '- Durable, high-quality materials',
        '- Simple to set up and use',
        '',
        '## Benefits',
        '- Saves you time every day',
        '- Delivers reliable results you can count on',
        '- A great value for what it offers',
        '',
        `**Order yours today and see the difference ${title} can make!**`,
      ].join('\n');
    case 'Social Media Caption':
      return [
        OFFLINE_NOTICE,
        '',
        `✨ ${title} is here, and it's better than ever! 🚀`,
        '',
        'Tap the link in our bio to learn more, and tell us what you think in the comments! 👇',
        '',
        hashtags(topic).join(' '),
      ].join('\n');
  }
}

function topicOf(prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, ' ').trim().replace(/[.!?]+$/, '');
  if (!oneLine) return 'your topic';
  return oneLine.length > 80 ? `${oneLine.slice(0, 80).replace(/\s+\S*$/, '')}…` : oneLine;
}

function titleCase(text: string): string {
  return text.replace(/(^|\s)(\p{Ll})/gu, (_match, space: string, letter: string) => space + letter.toUpperCase());
}

/** 3-5 hashtags from the prompt's longer words, padded with generic ones. */
function hashtags(topic: string): string[] {
  const words = topic.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const tags = [...new Set(words.filter((word) => word.length >= 4 && !STOP_WORDS.has(word)))].slice(0, 4);
  for (const fallback of ['content', 'inspiration', 'community']) {
    if (tags.length >= 3) break;
    if (!tags.includes(fallback)) tags.push(fallback);
  }
  return tags.map((tag) => `#${tag}`);
}

function countWords(text: string): number {
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
