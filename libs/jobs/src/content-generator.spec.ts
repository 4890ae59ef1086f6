import type { GenerationOptions, TokenUsage } from '@app/common';
import { type GenerationRequest, type GenerationResult, LlmProvider, LlmServerError } from '@app/llm';
import { ContentGenerator } from './content-generator';
import type { JobRecord } from './job.repository';
import { processingJobRecord } from './job-record.fixture';

const outlineText = (topic: string) => [`# ${topic}`, '## One', '- a', '## Two', '- b', '## Three', '- c'].join('\n');
const usageOf = (tokens: number, cost?: number): TokenUsage => ({ promptTokens: tokens, completionTokens: tokens, totalTokens: 2 * tokens, ...(cost === undefined ? {} : { cost }) });

/** A provider answer with these texts (the first is `text`). */
function answer(texts: string[], usage?: TokenUsage, overrides: Partial<GenerationResult> = {}): GenerationResult {
  return { text: texts[0], texts, provider: 'openrouter', model: 'openai/gpt-4o-mini', usage, finishReason: 'stop', generationId: 'gen-1', durationMs: 10, ...overrides };
}

/** A provider call that answers `result`, telling its usage as real providers do. */
const reports = (result: GenerationResult) => async (request: GenerationRequest) => {
  if (result.usage) request.onUsage?.(result.usage);
  return result;
};

const jobWith = (overrides: Partial<JobRecord>): JobRecord => ({ ...processingJobRecord, ...overrides });

describe(ContentGenerator.name, () => {
  let sut: ContentGenerator;
  let llm: jest.Mocked<LlmProvider>;
  const onUsage = jest.fn();

  beforeEach(() => {
    llm = { name: 'openrouter', model: 'openai/gpt-4o-mini', generate: jest.fn(() => Promise.reject(new Error('unexpected call: generate'))) } as unknown as jest.Mocked<LlmProvider>;
    onUsage.mockReset();
    sut = new ContentGenerator(llm);
  });

  it('keeps an answer that keeps its contract, with the outline read from it, in one call', async () => {
    llm.generate.mockImplementationOnce(reports(answer([outlineText('Remote work')], usageOf(5, 0.01))));
    const onDelta = jest.fn();
    const signal = new AbortController().signal;

    const result = await sut.generate(jobWith({ options: { tone: 'friendly' } }), { correlationId: 'corr-1', signal, onDelta, onUsage });

    expect(result).toEqual({
      generatedContent: outlineText('Remote work'),
      validation: { ok: true, problems: [] },
      outline: [
        { heading: 'One', points: ['a'] },
        { heading: 'Two', points: ['b'] },
        { heading: 'Three', points: ['c'] },
      ],
      provider: 'openrouter',
      model: 'openai/gpt-4o-mini',
      usage: usageOf(5, 0.01),
      durationMs: 10,
      finishReason: 'stop',
      generationId: 'gen-1',
    });
    expect(llm.generate).toHaveBeenCalledTimes(1);
    expect(llm.generate).toHaveBeenCalledWith<[GenerationRequest]>({
      prompt: processingJobRecord.prompt,
      contentType: 'Blog Post Outline',
      options: { tone: 'friendly' },
      correlationId: 'corr-1',
      signal,
      onDelta,
      onUsage,
    });
    expect(onUsage).toHaveBeenCalledWith(usageOf(5, 0.01));
  });

  it('sends a broken answer back once, adds the repair usage and keeps the repaired answer', async () => {
    const options: GenerationOptions = { platform: 'x' };
    const job = jobWith({ contentType: 'Social Media Caption', options });
    llm.generate
      .mockImplementationOnce(reports(answer(['x'.repeat(300)], usageOf(5, 0.01), { finishReason: 'length' })))
      .mockImplementationOnce(reports(answer(['Short and sweet #launch'], usageOf(3, 0.02), { durationMs: 4 })));

    const result = await sut.generate(job, { correlationId: 'corr-1', onUsage });

    expect(llm.generate).toHaveBeenCalledTimes(2);
    expect(llm.generate.mock.calls[1][0]).toEqual({
      prompt: job.prompt,
      contentType: 'Social Media Caption',
      options: { platform: 'x', variants: 1 },
      repair: { text: 'x'.repeat(300), problems: ['the caption has 300 characters; X allows 280'] },
      correlationId: 'corr-1',
      signal: undefined,
      onUsage,
    });
    expect(result).toMatchObject({
      generatedContent: 'Short and sweet #launch',
      validation: { ok: true, problems: [] },
      usage: { promptTokens: 8, completionTokens: 8, totalTokens: 16, cost: 0.03 },
      durationMs: 14,
      // Why the kept answer ended, not the replaced one.
      finishReason: 'stop',
    });
    expect(result).not.toHaveProperty('variants');
    expect(onUsage.mock.calls).toEqual([[usageOf(5, 0.01)], [usageOf(3, 0.02)]]);
  });

  it('stores an answer still broken after its repair with ok: false and its problems', async () => {
    llm.generate.mockImplementationOnce(reports(answer(['Just prose']))).mockImplementationOnce(reports(answer(['# Title\n## Only one\n- a'])));

    const result = await sut.generate(processingJobRecord, { correlationId: 'corr-1' });

    expect(llm.generate).toHaveBeenCalledTimes(2);
    expect(result).toMatchObject({
      generatedContent: '# Title\n## Only one\n- a',
      validation: { ok: false, problems: ['the outline has 1 section; it needs at least 3, each a Markdown heading (## Heading) with bullet points'] },
      outline: [{ heading: 'Only one', points: ['a'] }],
    });
    expect(result.usage).toBeUndefined();
  });

  it('checks each variant, repairs only the broken ones and names them in the problems', async () => {
    const job = jobWith({ contentType: 'Product Description', options: { variants: 3 } });
    const good = (name: string) => `# ${name}\n\nGreat bottle.\n\n- Light`;
    llm.generate
      .mockImplementationOnce(reports(answer([good('First'), 'No structure at all', '- only\n- bullets'], usageOf(10))))
      .mockImplementationOnce(reports(answer([good('Second, repaired')], usageOf(2))))
      .mockImplementationOnce(reports(answer(['- still\n- only bullets'], usageOf(1))));

    const result = await sut.generate(job, { correlationId: 'corr-1', onUsage });

    expect(llm.generate.mock.calls.map(([request]) => request.repair?.text)).toEqual([undefined, 'No structure at all', '- only\n- bullets']);
    expect(llm.generate.mock.calls.slice(1).every(([request]) => request.options?.variants === 1 && request.onDelta === undefined)).toBe(true);
    expect(result).toMatchObject({
      generatedContent: good('First'),
      variants: [good('First'), good('Second, repaired'), '- still\n- only bullets'],
      validation: {
        ok: false,
        problems: [
          'variants[2]: the product description has no headline',
          'variants[2]: the product description has no prose paragraph besides the headline and the list',
        ],
      },
      product: { headline: 'First', body: 'Great bottle.', bullets: ['Light'] },
      usage: { promptTokens: 13, completionTokens: 13, totalTokens: 26 },
      durationMs: 30,
    });
    expect(onUsage).toHaveBeenCalledTimes(3);
  });

  it('reads the outline or product of the first answer, after its repair', async () => {
    const job = jobWith({ options: { variants: 2 } });
    llm.generate.mockImplementationOnce(reports(answer(['Broken first', outlineText('Second')]))).mockImplementationOnce(reports(answer([outlineText('First, repaired')])));

    const result = await sut.generate(job, { correlationId: 'corr-1' });

    expect(result.generatedContent).toBe(outlineText('First, repaired'));
    expect(result.variants).toEqual([outlineText('First, repaired'), outlineText('Second')]);
    expect(result.validation).toEqual({ ok: true, problems: [] });
    expect(result.outline?.map((section) => section.heading)).toEqual(['One', 'Two', 'Three']);
  });

  it("checks against the job's options (maxWords)", async () => {
    const long = `# Headline\n\n${'word '.repeat(40)}\n\n- Bullet`;
    llm.generate.mockImplementationOnce(reports(answer([long]))).mockImplementationOnce(reports(answer([long])));

    const result = await sut.generate(jobWith({ contentType: 'Product Description', options: { maxWords: 20 } }), { correlationId: 'corr-1' });

    expect(result.validation).toEqual({ ok: false, problems: ['the answer has 42 words; at most 20 were asked for'] });
  });

  it('keeps the answer as it was when its repair request fails, saying so, with the usage of the calls that finished', async () => {
    llm.generate.mockImplementationOnce(reports(answer(['Broken'], usageOf(4)))).mockRejectedValueOnce(new LlmServerError('LLM provider responded 500', 500));

    const result = await sut.generate(processingJobRecord, { correlationId: 'corr-1', onUsage });

    expect(result.generatedContent).toBe('Broken');
    expect(result.validation?.ok).toBe(false);
    expect(result.validation?.problems.at(-1)).toBe('the request to fix these problems failed');
    expect(result.usage).toEqual(usageOf(4));
    expect(onUsage).toHaveBeenCalledWith(usageOf(4));
  });

  it('fails with the abort when the repair is stopped (cancel, shutdown, lost lock)', async () => {
    const stop = new AbortController();
    llm.generate.mockImplementationOnce(reports(answer(['Broken'], usageOf(4)))).mockImplementationOnce(async () => {
      stop.abort('cancelled');
      throw new Error('aborted');
    });

    await expect(sut.generate(processingJobRecord, { correlationId: 'corr-1', onUsage, signal: stop.signal })).rejects.toThrow('aborted');
  });

  it('fails with the provider error of the first call', async () => {
    llm.generate.mockRejectedValueOnce(new LlmServerError('LLM provider responded 500', 500));

    await expect(sut.generate(processingJobRecord, { correlationId: 'corr-1', onUsage })).rejects.toBeInstanceOf(LlmServerError);
    expect(onUsage).not.toHaveBeenCalled();
  });
});
