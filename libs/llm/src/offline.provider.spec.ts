import type { ContentType } from '@app/common';
import { LlmOutputTooLargeError } from './llm.errors';
import type { GenerationRequest } from './llm-provider';
import { OFFLINE_NOTICE, offlineText, OfflineProvider } from './offline.provider';

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

  it('shapes a blog post outline: title from the prompt, introduction, 5 sections, conclusion', async () => {
    const { text } = await sut.generate(request('Blog Post Outline'));

    expect(text).toContain('# Eco-friendly Water Bottles For Hikers');
    expect(text).toContain('## Introduction');
    expect(text.match(/^## \d\. /gm)).toHaveLength(5);
    expect(text).toContain('## Conclusion');
  });

  it('shapes product copy: headline, features, benefits, call to action', async () => {
    const { text } = await sut.generate(request('Product Description'));

    expect(text).toMatch(/^# Eco-friendly Water Bottles For Hikers/m);
    expect(text).toContain('## Key Features');
    expect(text).toContain('## Benefits');
    expect(text).toMatch(/Order yours today/);
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
});
