import type { ContentType, GenerationOptions } from '@app/common';
import { allowedWords, checkOutput, countChars, countWords, findHashtags, type OutputCheck } from './output-contracts';

const tags = (count: number, prefix = 'tag') => Array.from({ length: count }, (_, index) => `#${prefix}${index}`).join(' ');

describe(checkOutput.name, () => {
  describe('Social Media Caption', () => {
    it.each<[string, string, GenerationOptions, string[]]>([
      ['280 characters on X', 'a'.repeat(280), { platform: 'x' }, []],
      ['281 characters on X', 'a'.repeat(281), { platform: 'x' }, ['the caption has 281 characters; X allows 280']],
      ['280 emoji on X (code points, not UTF-16 units)', '😀'.repeat(280), { platform: 'x' }, []],
      ['281 emoji on X', '😀'.repeat(281), { platform: 'x' }, ['the caption has 281 characters; X allows 280']],
      ['accented text at the limit', 'é'.repeat(280), { platform: 'x' }, []],
      ['5 hashtags on X', `Launch day! ${tags(5)}`, { platform: 'x' }, []],
      ['6 hashtags on X', `Launch day! ${tags(6)}`, { platform: 'x' }, ['the caption has 6 hashtags; X allows 5']],
      ['accented and non-Latin hashtags', 'Olá #café #東京 #Ünïcödé #caféé #été #año', { platform: 'x' }, ['the caption has 6 hashtags; X allows 5']],
      ['2,200 characters without a platform (Instagram limits)', 'b'.repeat(2200), {}, []],
      ['2,201 characters without a platform', 'b'.repeat(2201), {}, ['the caption has 2201 characters; a caption may have at most 2200']],
      ['3,000 characters on LinkedIn', 'c'.repeat(3000), { platform: 'linkedin' }, []],
      ['3,001 characters on LinkedIn', 'c'.repeat(3001), { platform: 'linkedin' }, ['the caption has 3001 characters; LinkedIn allows 3000']],
      ['63,206 characters on Facebook', 'f'.repeat(63_206), { platform: 'facebook' }, []],
      ['63,207 characters on Facebook', 'f'.repeat(63_207), { platform: 'facebook' }, ['the caption has 63207 characters; Facebook allows 63206']],
      ['2,200 characters on Instagram', 'i'.repeat(2200), { platform: 'instagram' }, []],
      ['2,201 characters on Instagram', 'i'.repeat(2201), { platform: 'instagram' }, ['the caption has 2201 characters; Instagram allows 2200']],
      ['6 hashtags on LinkedIn (its limit is 30)', tags(6), { platform: 'linkedin' }, []],
      ['2,201 characters on TikTok', 'd'.repeat(2201), { platform: 'tiktok' }, ['the caption has 2201 characters; TikTok allows 2200']],
      ['30 hashtags on Instagram', tags(30), { platform: 'instagram' }, []],
      ['31 hashtags on Facebook', tags(31), { platform: 'facebook' }, ['the caption has 31 hashtags; Facebook allows 30']],
      ['both limits broken', `${'x'.repeat(300)} ${tags(6)}`, { platform: 'x' }, ['the caption has 336 characters; X allows 280', 'the caption has 6 hashtags; X allows 5']],
      ['surrounding whitespace is not counted', `\n\n${'a'.repeat(280)}\n\n`, { platform: 'x' }, []],
    ])('%s', (_name, text, options, problems) => {
      expect(checkOutput('Social Media Caption', text, options)).toEqual({ ok: problems.length === 0, problems });
    });
  });

  describe('Blog Post Outline', () => {
    const three = ['# Title', '', 'Intro.', '', '## One', '- a', '- b', '', '## Two', '- c', '', '## Three', '- d'].join('\n');

    it.each<[string, string, OutputCheck['outline']]>([
      [
        'level-2 headings under a title, with - bullets',
        three,
        [
          { heading: 'One', points: ['a', 'b'] },
          { heading: 'Two', points: ['c'] },
          { heading: 'Three', points: ['d'] },
        ],
      ],
      [
        'numbered headings, * and • bullets, bold and inline code removed',
        ['## 1. Why **it** matters', '* First', '• Second', '## 2) How', '+ `npm ci`', '## III. Next', '1. Ship it'].join('\n'),
        [
          { heading: 'Why it matters', points: ['First', 'Second'] },
          { heading: 'How', points: ['npm ci'] },
          { heading: 'Next', points: ['Ship it'] },
        ],
      ],
      [
        '### sections with accented and emoji text',
        ['### Café ☕', '- Crème brûlée', '### Été 🌞', '- Plage', '### Año nuevo 🎉', '- Fiesta'].join('\n'),
        [
          { heading: 'Café ☕', points: ['Crème brûlée'] },
          { heading: 'Été 🌞', points: ['Plage'] },
          { heading: 'Año nuevo 🎉', points: ['Fiesta'] },
        ],
      ],
      [
        'deeper headings become points of their section',
        ['## A', '### A.1', '- x', '## B', '- y', '## C', '- z'].join('\n'),
        [
          { heading: 'A', points: ['A.1', 'x'] },
          { heading: 'B', points: ['y'] },
          { heading: 'C', points: ['z'] },
        ],
      ],
      [
        'several # headings are sections, not a title',
        ['# A', '- x', '# B', '- y', '# C', '- z'].join('\n'),
        [
          { heading: 'A', points: ['x'] },
          { heading: 'B', points: ['y'] },
          { heading: 'C', points: ['z'] },
        ],
      ],
      [
        'all-bold lines when there are no Markdown headings',
        ['**Introduction**', '- a', '**Body:**', '- b', '__Conclusion__', '- c'].join('\n'),
        [
          { heading: 'Introduction', points: ['a'] },
          { heading: 'Body', points: ['b'] },
          { heading: 'Conclusion', points: ['c'] },
        ],
      ],
      ['a heading that starts with a number keeps it', ['## 2024 trends', '## 1.5 million users', '## Section 3: Wrap-up'].join('\n'), [
        { heading: '2024 trends', points: [] },
        { heading: '1.5 million users', points: [] },
        { heading: 'Wrap-up', points: [] },
      ]],
    ])('reads %s', (_name, text, outline) => {
      expect(checkOutput('Blog Post Outline', text)).toEqual({ ok: true, problems: [], outline });
    });

    it.each<[string, string, number]>([
      ['two sections', '# Title\n## One\n- a\n## Two\n- b', 2],
      ['one section', '## Only\n- a', 1],
      ['a lone title and bullets', '# Title\n- a\n- b\n- c', 0],
      ['plain prose', 'Just a paragraph about the topic.', 0],
    ])('refuses %s', (_name, text, sections) => {
      const check = checkOutput('Blog Post Outline', text);

      expect(check.ok).toBe(false);
      expect(check.problems).toEqual([
        `the outline has ${sections} section${sections === 1 ? '' : 's'}; it needs at least 3, each a Markdown heading (## Heading) with bullet points`,
      ]);
      expect(check.outline?.length ?? 0).toBe(sections);
    });
  });

  describe('Product Description', () => {
    it.each<[string, string, OutputCheck['product']]>([
      [
        'a # headline, paragraphs, bullets and a call to action',
        ['# Trail Bottle', '', 'Light and **tough**.', 'Keeps water cold.', '', '- Leak-proof lid', '* BPA-free', '• 750 ml', '', 'Order today!'].join('\n'),
        { headline: 'Trail Bottle', body: 'Light and tough. Keeps water cold.\n\nOrder today!', bullets: ['Leak-proof lid', 'BPA-free', '750 ml'] },
      ],
      [
        'the first line as headline when there is no heading',
        ['**Crème de la crème** ✨', 'Une gourde élégante.', '', '- Acier inoxydable'].join('\n'),
        { headline: 'Crème de la crème ✨', body: 'Une gourde élégante.', bullets: ['Acier inoxydable'] },
      ],
      [
        'only the prose after the headline as body (not a preamble)',
        ['Sure! Here is your copy:', '', '# Lamp', '', 'Warm light.', '', '- Dimmable'].join('\n'),
        { headline: 'Lamp', body: 'Warm light.', bullets: ['Dimmable'] },
      ],
      [
        'numbered features; later headings dropped',
        ['## Headline', 'Body text.', '### Features', '1. One', '2) Two'].join('\n'),
        { headline: 'Headline', body: 'Body text.', bullets: ['One', 'Two'] },
      ],
    ])('reads %s', (_name, text, product) => {
      expect(checkOutput('Product Description', text)).toEqual({ ok: true, problems: [], product });
    });

    it.each<[string, string, string[]]>([
      ['no bullets', '# Headline\n\nBody only.', ['the product description has no bullet list of features']],
      ['no body', '# Headline\n- a\n- b', ['the product description has no prose paragraph besides the headline and the list']],
      [
        'only a list',
        '- a\n- b',
        ['the product description has no headline', 'the product description has no prose paragraph besides the headline and the list'],
      ],
    ])('refuses %s', (_name, text, problems) => {
      expect(checkOutput('Product Description', text)).toMatchObject({ ok: false, problems });
    });
  });

  describe('maxWords', () => {
    const words = (count: number) => Array.from({ length: count }, (_, index) => `word${index}`).join(' ');

    it.each<[ContentType, number, number, boolean]>([
      ['Social Media Caption', 10, 15, true],
      ['Social Media Caption', 10, 16, false],
      ['Social Media Caption', 100, 110, true],
      ['Social Media Caption', 100, 111, false],
    ])('%s with maxWords %i and %i words: ok %s', (contentType, maxWords, count, ok) => {
      const check = checkOutput(contentType, words(count), { maxWords });

      expect(check.ok).toBe(ok);
      expect(check.problems).toEqual(ok ? [] : [`the answer has ${count} words; at most ${maxWords} were asked for`]);
    });

    it('allows 10% more, and at least 5 words more', () => {
      expect([10, 50, 100, 1000].map(allowedWords)).toEqual([15, 55, 110, 1100]);
    });

    it('adds to the type’s own problems', () => {
      expect(checkOutput('Blog Post Outline', words(30), { maxWords: 10 }).problems).toEqual([
        'the outline has 0 sections; it needs at least 3, each a Markdown heading (## Heading) with bullet points',
        'the answer has 30 words; at most 10 were asked for',
      ]);
    });
  });

  it.each(['Blog Post Outline', 'Product Description', 'Social Media Caption'] as const)('refuses an empty %s', (contentType) => {
    expect(checkOutput(contentType, ' \n ')).toEqual({ ok: false, problems: ['the answer is empty'] });
  });
});

describe('text measures', () => {
  it.each([
    ['ascii', 'hello', 5],
    ['accented (precomposed)', 'café', 4],
    ['emoji outside the BMP', '😀😀', 2],
    ['a flag (two regional indicators)', '🇵🇹', 2],
  ])('countChars counts code points: %s', (_name, text, count) => {
    expect(countChars(text)).toBe(count);
  });

  it.each([
    ['English', 'The quick brown fox', undefined, 4],
    ['markup and hashtags', '## Title\n- one point #tag', undefined, 4],
    ['Japanese without spaces', '東京は日本の首都です', 'ja', 6],
  ])('countWords: %s', (_name, text, language, count) => {
    expect(countWords(text, language)).toBe(count);
  });

  it('finds hashtags that start a word and hold a letter', () => {
    expect(findHashtags('#one two#three ## heading #4 #4real &#38; https://x.com/#frag #São_Paulo #東京')).toEqual(['#one', '#4real', '#São_Paulo', '#東京']);
  });
});
