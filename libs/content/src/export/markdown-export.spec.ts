import { itemStub, libraryMeta as meta, streamOf as stream, textOf as text } from './export.fixture';
import { markdownExport, markdownHeading, yamlString } from './markdown-export';

// js-yaml comes with @nestjs/swagger: a real YAML parser is the judge of what the export writes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

const HOSTILE = ['a "quoted": value # not a comment', "it's", '---', '- a list?', '{ flow: map }', '&anchor *alias !tag', 'line\nbreak\r\nand\u2028separator', 'nul \u0000 del \u007f nel \u0085 c1 \u0090', 'bom \ufeff', 'lone \ud800 surrogate', 'yes', '0x1F', '~', ''];

/** The fenced ```yaml blocks of an export, parsed. */
function metadataBlocks(markdown: string): unknown[] {
  return [...markdown.matchAll(/\n```yaml\n([\s\S]*?)\n```\n/g)].map((match) => yaml.load(match[1]));
}

describe('markdownExport', () => {
  it('writes front matter, then per item a heading, its metadata and its body as is', async () => {
    const usage = { promptTokens: 1, completionTokens: 2, totalTokens: 3, cost: 0.5 };
    const items = [itemStub({ body: '# Own heading\n\n- a\n- b', sourceJobId: 'job-1', provider: 'openrouter', model: 'm', usage }), itemStub({ title: 'Second', body: 'Plain' })];

    const written = await text(markdownExport(stream(items), meta));

    expect(written).toBe(
      [
        '---',
        'title: "Content library"',
        'exportedAt: "2026-11-24T12:00:00.000Z"',
        'truncated: false',
        '---',
        '',
        '---',
        '',
        '## Title',
        '',
        '```yaml',
        'id: "6650a1b2c3d4e5f6a7b8c9d0"',
        'title: "Title"',
        'type: "Blog Post Outline"',
        'createdAt: "2026-11-24T10:40:00.000Z"',
        'updatedAt: "2026-11-24T10:41:00.000Z"',
        'sourceJobId: "job-1"',
        'provider: "openrouter"',
        'model: "m"',
        'usage:',
        '  promptTokens: 1',
        '  completionTokens: 2',
        '  totalTokens: 3',
        '  cost: 0.5',
        '```',
        '',
        '# Own heading',
        '',
        '- a',
        '- b',
        '',
        '---',
        '',
        '## Second',
        '',
        '```yaml',
        'id: "6650a1b2c3d4e5f6a7b8c9d0"',
        'title: "Second"',
        'type: "Blog Post Outline"',
        'createdAt: "2026-11-24T10:40:00.000Z"',
        'updatedAt: "2026-11-24T10:41:00.000Z"',
        '```',
        '',
        'Plain',
        '',
      ].join('\n'),
    );
    expect(yaml.load(/^---\n([\s\S]*?)\n---\n/.exec(written)![1])).toEqual({ title: 'Content library', exportedAt: '2026-11-24T12:00:00.000Z', truncated: false });
    expect(metadataBlocks(written)[0]).toMatchObject({ title: 'Title', usage });
  });

  it.each(HOSTILE)('writes the title %j as valid YAML that reads back the same', async (title) => {
    const written = await text(markdownExport(stream([itemStub({ title })]), { ...meta, scope: 'item', title }));

    const front = yaml.load(/^---\n([\s\S]*?)\n---\n/.exec(written)![1]) as { title: string };
    const [block] = metadataBlocks(written) as Array<{ title: string }>;
    const expected = title.replace(/\ud800/g, '\ufffd');
    expect(front.title).toBe(expected);
    expect(block.title).toBe(expected);
    // One heading line, whatever the title holds.
    expect(written.split('\n').filter((line) => line.startsWith('## '))).toHaveLength(1);
  });

  it.each(HOSTILE)('writes yamlString(%j) on one line', (value) => {
    expect(yamlString(value)).not.toMatch(/[\r\n\u0085\u2028\u2029]/);
  });

  it('escapes what Markdown would read as syntax in a heading', () => {
    expect(markdownHeading('# *Big* _news_ <script> [link](x) `code` | a ~ b & c!\r\nnext')).toBe(
      '\\# \\*Big\\* \\_news\\_ \\<script\\> \\[link\\](x) \\`code\\` \\| a \\~ b \\& c\\! next',
    );
  });

  it('closes a code fence a body leaves open, so it cannot swallow the next items', async () => {
    const items = [itemStub({ body: 'Intro\n~~~~js\nconst a = 1;' }), itemStub({ title: 'Next', body: '```\nclosed\n```' })];
    const written = await text(markdownExport(stream(items), meta));

    expect(written).toContain('Intro\n~~~~js\nconst a = 1;\n~~~~\n\n---\n\n## Next');
    expect(written).toContain('```\nclosed\n```\n');
    expect(metadataBlocks(written)).toHaveLength(2);
  });

  it('closes an HTML comment a body leaves open, so it cannot hide the next items', async () => {
    const written = await text(markdownExport(stream([itemStub({ body: 'Intro <!-- draft' }), itemStub({ title: 'Next' })]), meta));

    expect(written).toContain('Intro <!-- draft\n-->\n\n---\n\n## Next');
  });

  it('says in the front matter and in the text that the export stopped short', async () => {
    const written = await text(markdownExport(stream([itemStub()]), { ...meta, truncated: true, limit: 1 }));
    expect(yaml.load(/^---\n([\s\S]*?)\n---\n/.exec(written)![1])).toMatchObject({ truncated: true, limit: 1 });
    expect(written).toContain('> Only the newest 1 items are in this export');
  });
});
