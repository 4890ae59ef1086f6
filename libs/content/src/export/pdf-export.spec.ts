import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { itemStub, libraryMeta as meta, streamOf as stream, bytesOf as bytes } from './export.fixture';
import { breakLongWords, pdfExport } from './pdf-export';

const run = promisify(execFile);

/** The PDF's text as poppler's pdftotext reads it (one string, pages separated by form feeds). */
async function pdfText(pdf: Buffer): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'pdf-export-'));
  try {
    const file = join(directory, 'export.pdf');
    await writeFile(file, pdf);
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', file, '-'], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

describe('breakLongWords', () => {
  it('gives runs of more than 40 non-space characters an invisible break every 40, leaving words alone', () => {
    expect(breakLongWords('short words stay')).toBe('short words stay');
    expect(breakLongWords(`${'a'.repeat(100)} ${'b'.repeat(40)}`).split('\u200B').map((part) => part.length)).toEqual([40, 40, 61]);
  });
});

describe('pdfExport', () => {
  // Unbroken, pdfkit took about 20 s and gigabytes for this (it re-measures a word wider than the line on
  // every line); with the breaks it takes well under a second. The timeout is the guard, with a wide margin.
  it('renders a 50,000-character body without a space, broken where the line ends', async () => {
    const pdf = await bytes(pdfExport(stream([itemStub({ body: 'ж'.repeat(50_000) })]), meta));

    const text = await pdfText(pdf);
    // Counted, not compared: a failure message holding 50,000 characters helps nobody.
    expect(text.match(/ж/g)?.length).toBe(50_000);
    expect(text.split('\n').filter((line) => line.startsWith('ж')).length).toBeGreaterThan(100);
  }, 15_000);

  it('writes a PDF whose text holds the title line, each title, type, date and body line', async () => {
    const items = [
      itemStub({ title: 'Crème brûlée à la française', body: 'Ærøskøbing and Łódź\nΚαλημέρα κόσμε · Привет мир' }),
      itemStub({ title: 'Second item', type: 'Social Media Caption', body: 'Plain caption #launch', model: 'gpt-x', provider: 'openrouter' }),
    ];
    const pdf = await bytes(pdfExport(stream(items), meta));

    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF');
    const text = await pdfText(pdf);
    for (const line of ['Content library', 'Exported 2026-11-24 12:00 UTC', 'Crème brûlée à la française', 'Ærøskøbing and Łódź', 'Καλημέρα κόσμε · Привет мир']) {
      expect(text).toContain(line);
    }
    expect(text).toContain('Social Media Caption · 2026-11-24 10:40 UTC · openrouter / gpt-x');
    expect(text).toContain('Plain caption #launch');
    expect(text).toContain('End of export: 2 items.');
    expect(text).toContain('Page 1');
  });

  it('draws headings, bullets and numbered lists as such and strips inline markers', async () => {
    const body = ['# Big heading', 'Intro with **bold words** and *emphasis* and `code`.', '## Smaller', '- first bullet', '* second bullet', '  - nested bullet', '1. step one', '2) step two', '> quoted', '---', '[a link](https://example.com)'].join('\n');
    const text = await pdfText(await bytes(pdfExport(stream([itemStub({ body })]), meta)));

    expect(text).toContain('Big heading');
    expect(text).not.toContain('# Big heading');
    expect(text).toContain('Intro with bold words and emphasis and code.');
    expect(text).toMatch(/•\s+first bullet/);
    expect(text).toMatch(/•\s+second bullet/);
    expect(text).toMatch(/•\s+nested bullet/);
    expect(text).toMatch(/1\.\s+step one/);
    expect(text).toMatch(/2\.\s+step two/);
    expect(text).toContain('a link (https://example.com)');
    expect(text).not.toMatch(/\*\*|`/);
  });

  it('flows a long body over numbered pages', async () => {
    const body = Array.from({ length: 400 }, (_, index) => `Line ${index + 1} of a long body that should wrap because it is long enough to reach the right margin of the page.`).join('\n');
    const text = await pdfText(await bytes(pdfExport(stream([itemStub({ body })]), meta)));

    const pages = text.split('\f').filter((page) => page.trim());
    expect(pages.length).toBeGreaterThan(5);
    pages.forEach((page, index) => expect(page).toContain(`Page ${index + 1}`));
    expect(text).toContain('Line 1 of a long body');
    expect(text).toContain('Line 400 of a long body');
  });

  it('replaces characters the font lacks (emoji, CJK) instead of failing', async () => {
    const items = [itemStub({ title: 'Launch 🚀 日本語 title', body: 'Family 👨‍👩‍👧 and flags 🇫🇷 then text after\u0000\u0007 controls and a lone \ud800 surrogate' })];
    const text = await pdfText(await bytes(pdfExport(stream(items), meta)));

    expect(text).toContain("Launch \ufffd \ufffd title");
    expect(text).toMatch(/Family \ufffd and flags \ufffd then text after controls and a lone\s+surrogate/);
    expect(text).not.toContain('\u200d');
  });

  it('says on the first page when the export stopped at the limit', async () => {
    const text = await pdfText(await bytes(pdfExport(stream([itemStub()]), { ...meta, truncated: true, limit: 1 })));
    expect(text).toContain('Only the newest 1 items are in this export');
  });

  it('leaves out the title line for a single item', async () => {
    const text = await pdfText(await bytes(pdfExport(stream([itemStub({ title: 'Only me' })]), { ...meta, scope: 'item', title: 'Only me' })));
    expect(text).not.toContain('Content library');
    expect(text).not.toContain('End of export');
    expect(text).toContain('Only me');
  });

  it('reads no further items while the client takes nothing (backpressure)', async () => {
    let read = 0;
    const endless = async function* () {
      for (;;) {
        read++;
        // Text that does not compress well, so each item makes real bytes.
        yield itemStub({ body: randomBytes(3_000).toString('base64').replace(/(.{12})/g, '$1 ') });
      }
    };
    const output = pdfExport(endless(), meta);
    let seen = -1;
    for (let polls = 0; polls < 50 && read !== seen; polls++) {
      seen = read;
      await sleep(200);
    }

    expect(read).toBe(seen);
    // About 128 kB in the output's buffers: a few dozen pages, not the endless export.
    expect(read).toBeLessThan(60);
    expect(output.readableLength + (output as unknown as { writableLength: number }).writableLength).toBeLessThan(512 * 1024);
    output.destroy();
  });

  it('stops reading items when the client goes away', async () => {
    let closed = false;
    const endless = async function* () {
      try {
        for (;;) yield itemStub({ body: 'y '.repeat(2_500) });
      } finally {
        closed = true;
      }
    };
    const output = pdfExport(endless(), meta);
    output.resume();
    await sleep(50);
    output.destroy();
    await sleep(100);
    expect(closed).toBe(true);
  });
});
