import { inlineSpans, markdownBlocks } from './markdown-blocks';

describe('markdownBlocks', () => {
  it('reads headings, lists, quotes, rules, code and paragraphs line by line', () => {
    const body = ['# One', '## Two ##', '#### Four', '#hashtag line', '- dash', '* star', '+ plus', '    - nested', '1. first', '12) twelfth', '> quoted', '***', '', '```js', '# not a heading', '```', 'Plain text'].join('\n');

    expect([...markdownBlocks(body)]).toEqual([
      { kind: 'heading', level: 1, text: 'One' },
      { kind: 'heading', level: 2, text: 'Two' },
      { kind: 'heading', level: 3, text: 'Four' },
      { kind: 'paragraph', text: '#hashtag line' },
      { kind: 'bullet', depth: 0, text: 'dash' },
      { kind: 'bullet', depth: 0, text: 'star' },
      { kind: 'bullet', depth: 0, text: 'plus' },
      { kind: 'bullet', depth: 2, text: 'nested' },
      { kind: 'numbered', depth: 0, label: '1.', text: 'first' },
      { kind: 'numbered', depth: 0, label: '12.', text: 'twelfth' },
      { kind: 'quote', text: 'quoted' },
      { kind: 'rule' },
      { kind: 'blank' },
      { kind: 'code', text: '# not a heading' },
      { kind: 'paragraph', text: 'Plain text' },
    ]);
  });

  it('takes CRLF and CR line ends, and *emphasis* at the start of a line is no bullet', () => {
    expect([...markdownBlocks('a\r\nb\r*c* d')]).toEqual([
      { kind: 'paragraph', text: 'a' },
      { kind: 'paragraph', text: 'b' },
      { kind: 'paragraph', text: '*c* d' },
    ]);
  });
});

describe('inlineSpans', () => {
  it('makes bold spans and strips emphasis, code and link markers', () => {
    expect(inlineSpans('Use **bold** and __also bold__, *stress*, `code` and [docs](https://x.test).')).toEqual([
      { text: 'Use ', bold: false },
      { text: 'bold', bold: true },
      { text: ' and ', bold: false },
      { text: 'also bold', bold: true },
      { text: ', stress, code and docs (https://x.test).', bold: false },
    ]);
  });

  it('leaves lone markers, snake_case and arithmetic alone', () => {
    expect(inlineSpans('2 * 3 = 6, a_b_c and ** unclosed')).toEqual([{ text: '2 * 3 = 6, a_b_c and ** unclosed', bold: false }]);
  });
});
