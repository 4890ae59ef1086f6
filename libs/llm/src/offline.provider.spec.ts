import { CONTENT_TYPES, type ContentType, type GenerationOptions, KEYWORD_MAX_LENGTH, LENGTHS, MAX_KEYWORDS, MAX_VARIANTS, MIN_WORDS, PLATFORMS, TONES } from '@app/common';
import fc from 'fast-check';
import { LlmOutputTooLargeError } from './llm.errors';
import type { GenerationRequest } from './llm-provider';
import { OFFLINE_NOTICE, offlineNotice, offlineText, OfflineProvider } from './offline.provider';
import { checkOutput, countWords, findHashtags } from './output-contracts';

describe(OfflineProvider.name, () => {
  let sut: OfflineProvider;

  const request = (contentType: ContentType, overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
    prompt: 'eco-friendly water bottles for hikers',
    contentType,
    ...overrides,
  });

  beforeEach(() => {
    sut = new OfflineProvider();
  });

  it('is deterministic: the same input gives the same output', async () => {
    const first = await sut.generate(request('Blog Post Outline'));
    const second = await sut.generate(request('Blog Post Outline'));

    expect(second.text).toBe(first.text);
    expect(second.usage).toEqual(first.usage);
  });

  it('says it is offline sample text and never names a model', async () => {
    const result = await sut.generate(request('Product Description'));

    expect(result.text.split('\n')[0]).toBe(OFFLINE_NOTICE);
    expect(result).toMatchObject({ provider: 'offline', model: 'offline', finishReason: 'stop' });
    expect(sut.name).toBe('offline');
  });

  it('streams about ten pieces that concatenate to the text', async () => {
    const deltas: string[] = [];

    const result = await sut.generate(request('Social Media Caption', { onDelta: (text) => deltas.push(text) }));

    expect(deltas.length).toBeGreaterThanOrEqual(8);
    expect(deltas.length).toBeLessThanOrEqual(10);
    expect(deltas.join('')).toBe(result.text);
  });

  it('approximates token usage as words', async () => {
    const result = await sut.generate(request('Blog Post Outline', { prompt: 'five words in this prompt' }));

    expect(result.usage).toEqual({
      promptTokens: 5,
      completionTokens: result.text.split(/\s+/).filter(Boolean).length,
      totalTokens: 5 + result.text.split(/\s+/).filter(Boolean).length,
    });
  });

  it('shapes a blog post outline: title from the prompt, introduction, 5 middle sections, conclusion', async () => {
    const { text } = await sut.generate(request('Blog Post Outline'));

    expect(text).toContain('# Eco-friendly Water Bottles For Hikers: A Practical Guide');
    expect(text.match(/^## /gm)).toHaveLength(7);
    expect(text).toMatch(/^## Introduction$/m);
    expect(text).toMatch(/^## Conclusion$/m);
  });

  it('shapes product copy: headline, prose, feature bullets, call to action', async () => {
    const { text } = await sut.generate(request('Product Description'));

    expect(checkOutput('Product Description', text).product).toEqual({
      headline: 'Eco-friendly Water Bottles For Hikers',
      body: 'Here is what you need to know about eco-friendly water bottles for hikers: made for the way you work.\n\nTell us what you think in the comments!',
      bullets: ['Thoughtful design', 'Durable, high-quality materials', 'Simple to set up and use', 'Saves you time every day', 'Reliable results you can count on'],
    });
    expect(text.split('\n').at(-1)).toBe('Tell us what you think in the comments!');
  });

  it('shapes a caption: emojis, a call to action and 3-5 hashtags from the prompt', async () => {
    const { text } = await sut.generate(request('Social Media Caption'));

    const hashtags = text.match(/#[\p{L}\p{N}]+/gu) ?? [];
    expect(hashtags.length).toBeGreaterThanOrEqual(3);
    expect(hashtags.length).toBeLessThanOrEqual(5);
    expect(hashtags).toEqual(expect.arrayContaining(['#water', '#bottles', '#hikers']));
    expect(text).toMatch(/\p{Extended_Pictographic}/u);
    expect(text).toContain('link in our bio');
  });

  it('pads hashtags when the prompt has few usable words', async () => {
    const { text } = await sut.generate(request('Social Media Caption', { prompt: 'a cat' }));

    expect(text.match(/#\w+/g)).toEqual(['#content', '#inspiration', '#community']);
  });

  it("stops with the caller's AbortError when aborted", async () => {
    const controller = new AbortController();
    const deltas: string[] = [];

    const promise = sut.generate(
      request('Blog Post Outline', {
        signal: controller.signal,
        onDelta: (text) => {
          deltas.push(text);
          controller.abort();
        },
      }),
    );

    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    expect(deltas).toHaveLength(1);
  });

  it("answers the caller's own abort reason, before any piece, when already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const deltas: string[] = [];

    const error = await sut.generate(request('Blog Post Outline', { signal: controller.signal, onDelta: (text) => deltas.push(text) })).catch((reason: unknown) => reason);

    expect(error).toBe(controller.signal.reason);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(deltas).toEqual([]);
  });

  describe('output limit', () => {
    const text = offlineText('eco-friendly water bottles for hikers', 'Product Description');

    it('answers a text exactly at the limit', async () => {
      sut = new OfflineProvider({ maxOutputChars: text.length });

      await expect(sut.generate(request('Product Description'))).resolves.toMatchObject({ text });
    });

    it('fails a text over the limit with a final LlmOutputTooLargeError, before any delta', async () => {
      sut = new OfflineProvider({ maxOutputChars: text.length - 1 });
      const deltas: string[] = [];

      const promise = sut.generate(request('Product Description', { onDelta: (piece) => deltas.push(piece) }));

      await expect(promise).rejects.toBeInstanceOf(LlmOutputTooLargeError);
      await expect(promise).rejects.toMatchObject({
        code: 'LLM_OUTPUT_TOO_LARGE',
        retryable: false,
        message: `LLM answer exceeded ${text.length - 1} characters`,
      });
      expect(deltas).toEqual([]);
    });
  });

  describe('options', () => {
    it('writes a short caption for X with at most 5 hashtags, the keywords first', async () => {
      const { text } = await sut.generate(request('Social Media Caption', { options: { platform: 'x', keywords: ['trail running', 'zero waste'] } }));

      expect([...text].length).toBeLessThanOrEqual(280);
      expect(findHashtags(text).length).toBeLessThanOrEqual(5);
      expect(findHashtags(text).slice(0, 2)).toEqual(['#trailRunning', '#zeroWaste']);
      expect(text).toContain('trail running and zero waste');
    });

    it.each(['Blog Post Outline', 'Product Description', 'Social Media Caption'] as const)('works the keywords into a %s', async (contentType) => {
      const { text } = await sut.generate(request(contentType, { options: { keywords: ['BPA-free', 'leak-proof'] } }));

      expect(text).toContain('BPA-free and leak-proof');
    });

    it('says on its first line that it cannot write the language asked for', async () => {
      const { text } = await sut.generate(request('Blog Post Outline', { options: { language: 'pt-BR' } }));

      expect(text.split('\n')[0]).toBe('[Offline sample — no LLM was called; pt-BR not applied]');
    });

    it('reflects the tone', async () => {
      const friendly = await sut.generate(request('Social Media Caption', { options: { tone: 'friendly' } }));
      const urgent = await sut.generate(request('Social Media Caption', { options: { tone: 'urgent' } }));

      expect(friendly.text).toContain("Let's talk about");
      expect(urgent.text).toContain("Act now: don't miss out on");
    });

    it('grows with length and stays within maxWords', async () => {
      const words = async (options: GenerationOptions) => countWords((await sut.generate(request('Blog Post Outline', { options }))).text);

      const [short, medium, long] = [await words({ length: 'short' }), await words({ length: 'medium' }), await words({ length: 'long' })];

      expect(short).toBeLessThan(medium);
      expect(medium).toBeLessThan(long);
      expect(await words({ maxWords: 40 })).toBeLessThanOrEqual(40);
    });

    it('answers n distinct texts for variants, streaming only the first, usage over all', async () => {
      const deltas: string[] = [];

      const result = await sut.generate(request('Product Description', { options: { variants: 3 }, onDelta: (piece) => deltas.push(piece) }));

      expect(result.texts).toHaveLength(3);
      expect(new Set(result.texts).size).toBe(3);
      expect(result.text).toBe(result.texts[0]);
      expect(deltas.join('')).toBe(result.text);
      expect(result.usage!.completionTokens).toBe(result.texts.join(' ').split(/\s+/).length);
      expect(result.model).toBe('offline');
    });

    it('answers a repair request with one revised text that keeps the contract, whatever variants says', async () => {
      const options: GenerationOptions = { platform: 'x', variants: 3 };
      const result = await sut.generate(request('Social Media Caption', { options, repair: { text: 'x'.repeat(400), problems: ['the caption has 400 characters; X allows 280'] } }));

      expect(result.texts).toHaveLength(1);
      expect(result.text.split('\n')[0]).toBe(offlineNotice({}, true));
      expect(checkOutput('Social Media Caption', result.text, options)).toMatchObject({ ok: true });
    });

    it('ignores the model asked for', async () => {
      await expect(sut.generate(request('Blog Post Outline', { options: { model: 'anthropic/claude-3.5-haiku' } }))).resolves.toMatchObject({ model: 'offline' });
    });
  });

  it('keeps the output contract of every content type under any options (property)', () => {
    const options = fc.record(
      {
        tone: fc.constantFrom(...TONES),
        language: fc.constantFrom('en', 'pt-BR', 'zh-Hant', 'de-CH', 'es-419', 'ja'),
        length: fc.constantFrom(...LENGTHS),
        maxWords: fc.integer({ min: MIN_WORDS, max: 400 }),
        audience: fc.string({ maxLength: 40 }),
        keywords: fc.array(fc.string({ minLength: 1, maxLength: KEYWORD_MAX_LENGTH }), { maxLength: MAX_KEYWORDS }),
        platform: fc.constantFrom(...PLATFORMS),
        variants: fc.integer({ min: 1, max: MAX_VARIANTS }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...CONTENT_TYPES), fc.string({ maxLength: 300 }), options, fc.boolean(), (contentType, prompt, chosen, repaired) => {
        const count = repaired ? 1 : (chosen.variants ?? 1);
        const texts = Array.from({ length: count }, (_, variant) => offlineText(prompt, contentType, { options: chosen, variant, repaired }));
        for (const text of texts) expect(checkOutput(contentType, text, chosen)).toMatchObject({ ok: true, problems: [] });
        expect(new Set(texts).size).toBe(count);
      }),
      { numRuns: 300 },
    );
  });
});
