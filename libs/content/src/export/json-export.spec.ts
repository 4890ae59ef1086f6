import { ContentItem } from '../content.types';
import { itemStub, libraryMeta as meta, streamOf as stream, textOf as text } from './export.fixture';
import { jsonExport } from './json-export';

describe('jsonExport', () => {
  it('writes the items with provenance, the count at the end', async () => {
    const usage = { promptTokens: 1, completionTokens: 2, totalTokens: 3, cost: 0.5 };
    const items = [itemStub({ sourceJobId: 'job-1', provider: 'openrouter', model: 'm', usage }), itemStub({ _id: '6650a1b2c3d4e5f6a7b8c9d2' })];

    const parsed = JSON.parse(await text(jsonExport(stream(items), meta)));

    expect(parsed).toEqual({
      exportedAt: '2026-11-24T12:00:00.000Z',
      truncated: false,
      items: [
        {
          _id: '6650a1b2c3d4e5f6a7b8c9d0',
          userId: '6650a1b2c3d4e5f6a7b8c9d1',
          title: 'Title',
          type: 'Blog Post Outline',
          body: 'Body',
          createdAt: '2026-11-24T10:40:00.000Z',
          updatedAt: '2026-11-24T10:41:00.000Z',
          sourceJobId: 'job-1',
          provider: 'openrouter',
          model: 'm',
          usage,
        },
        expect.objectContaining({ _id: '6650a1b2c3d4e5f6a7b8c9d2' }),
      ],
      count: 2,
    });
    expect(Object.keys(parsed.items[1])).not.toContain('provider');
  });

  it('writes valid JSON for no items, a truncated export and hostile text', async () => {
    expect(JSON.parse(await text(jsonExport(stream([]), meta)))).toEqual({ exportedAt: meta.exportedAt.toISOString(), truncated: false, items: [], count: 0 });

    const hostile = itemStub({ title: '"]}, {"count": 99', body: '\u2028\u0000\ud800</script>\n' });
    const parsed = JSON.parse(await text(jsonExport(stream([hostile]), { ...meta, truncated: true, limit: 1 })));
    expect(parsed).toMatchObject({ truncated: true, limit: 1, count: 1 });
    expect(parsed.items[0].title).toBe(hostile.title);
    expect(parsed.items[0].body).toBe(hostile.body);
  });

  it('leaves out fields an item carries beyond the public ones', async () => {
    const item = { ...itemStub(), sourceKey: 'job:secret', __v: 3 } as ContentItem;
    const written = await text(jsonExport(stream([item]), meta));
    expect(written).not.toMatch(/sourceKey|__v/);
  });

  it('writes in chunks as items arrive, and reads items only as the client reads', async () => {
    let read = 0;
    const endless = async function* () {
      for (;;) {
        read++;
        yield itemStub({ body: 'x'.repeat(5_000) });
      }
    };
    const output = jsonExport(endless(), meta);
    const first = (await output[Symbol.asyncIterator]().next()).value as Buffer;
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(first.length).toBeGreaterThan(0);
    // About 64 kB per chunk plus the stream's buffer: a few dozen items, not the endless export.
    expect(read).toBeLessThan(100);
    output.destroy();
  });
});
