import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomUUID } from 'node:crypto';
import { getConnectionToken } from '@nestjs/mongoose';
import { Connection, Types } from 'mongoose';
import { ContentService } from '@app/content';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { testEnv } from './support/test-env';

type User = Awaited<ReturnType<typeof registerUser>>;
interface Item {
  _id: string;
  title: string;
  type: string;
  body: string;
  createdAt: string;
  [field: string]: unknown;
}
interface Download {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
}

const run = promisify(execFile);
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The PDF's text as poppler's pdftotext reads it (pages separated by form feeds). */
async function pdfText(pdf: Buffer, pages: { first?: number; last?: number } = {}): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'content-export-'));
  try {
    const file = join(directory, 'export.pdf');
    await writeFile(file, pdf);
    const range = [...(pages.first ? ['-f', String(pages.first)] : []), ...(pages.last ? ['-l', String(pages.last)] : [])];
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', ...range, file, '-'], { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `global.gc` without starting Node with --expose-gc: the flag can be set at run time and read in a new context. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Front matter and `---` + `## title` + ```yaml sections of a Markdown export, read back (values are JSON-compatible scalars). */
function parseMarkdown(text: string): { front: Record<string, unknown>; items: Array<Record<string, unknown> & { body: string }> } {
  const front = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!front) throw new Error('no front matter');
  const sections = [...text.matchAll(/\n---\n\n## .*\n\n```yaml\n([\s\S]*?)\n```\n\n/g)];
  const items = sections.map((section, index) => {
    const end = index + 1 < sections.length ? sections[index + 1].index : text.length;
    const body = text.slice(section.index + section[0].length, end).replace(/\n$/, '');
    return { ...yamlFields(section[1]), body };
  });
  return { front: yamlFields(front[1]), items };
}

function yamlFields(block: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  let parent: Record<string, unknown> | undefined;
  for (const line of block.split('\n')) {
    const match = /^( *)([A-Za-z]+):(?: (.*))?$/.exec(line);
    if (!match) throw new Error(`not a YAML field: ${JSON.stringify(line)}`);
    if (match[3] === undefined) fields[match[2]] = parent = {};
    else if (match[1]) parent![match[2]] = JSON.parse(match[3]);
    else fields[match[2]] = JSON.parse(match[3]);
  }
  return fields;
}

describe('Content export (HTTP through the real app)', () => {
  let api: RunningApi;
  let alice: User;
  let bob: User;
  const call = (method: string, path: string, options?: Parameters<typeof http>[3]) => http(api.url, method, path, options);
  const create = async (user: User, title: string, body = 'Some body text', type = 'Blog Post Outline'): Promise<Item> => {
    const response = await call('POST', '/content', { token: user.token, body: { title, type, body } });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const download = async (user: User, path: string, base = api.url): Promise<Download> => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${user.token}` } });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, bytes, text: bytes.toString('utf8') };
  };

  beforeAll(async () => {
    api = await startApi(testEnv('content-export'));
    [alice, bob] = await Promise.all([registerUser(api.url, 'Alice'), registerUser(api.url, 'Bob')]);
  });
  afterAll(() => api.close());

  describe('a library of four items, one saved from a job', () => {
    let carol: User;
    let items: Item[];
    const usage = { promptTokens: 12, completionTokens: 34, totalTokens: 46, cost: 0.0012 };

    beforeAll(async () => {
      carol = await registerUser(api.url, 'Carol');
      await create(carol, 'Crème brûlée à la française', 'Ærøskøbing and Łódź\nΚαλημέρα · Привет');
      await create(carol, 'Quotes "and" colons: # not a comment', 'line one\n---\nnot front matter\n```\nunclosed fence');
      await create(carol, 'Ten tips', ['# Heading one', 'Intro with **bold** text.', '## Heading two', '- first bullet', '- second bullet', '1. step one', '2. step two', '### Heading three', 'The end.'].join('\n'));
      await api.app.get(ContentService).saveFromJob({
        userId: carol.id,
        jobId: randomUUID(),
        title: 'Generated caption',
        type: 'Social Media Caption',
        body: 'Generated text #launch',
        provider: 'offline',
        model: 'offline-model',
        usage,
      });
      await create(bob, 'Bob only', 'not for carol');
      items = (await call('GET', '/content', { token: carol.token })).body;
      expect(items).toHaveLength(4);
    });

    it('exports JSON: every item newest first, as GET /content returns them, provenance included', async () => {
      const before = Date.now();
      const file = await download(carol, '/content/export?format=json');

      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const disposition = file.headers.get('content-disposition')!;
      expect(disposition).toMatch(/^attachment; filename="library-(\d{4}-\d{2}-\d{2})\.json"$/);
      expect(file.headers.get('x-export-truncated')).toBeNull();
      const parsed = JSON.parse(file.text);
      expect(parsed).toEqual({ exportedAt: expect.any(String), truncated: false, items, count: 4 });
      expect(Date.parse(parsed.exportedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(parsed.items[0]).toMatchObject({ title: 'Generated caption', provider: 'offline', model: 'offline-model', usage, sourceJobId: expect.any(String) });
      expect(JSON.stringify(parsed)).not.toContain('Bob only');
    });

    it('exports Markdown that reads back to the same titles, metadata and bodies', async () => {
      const file = await download(carol, '/content/export?format=markdown');

      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="library-\d{4}-\d{2}-\d{2}\.md"$/);
      const { front, items: sections } = parseMarkdown(file.text);
      expect(front).toEqual({ title: 'Content library', exportedAt: expect.any(String), truncated: false });
      expect(sections.map(({ id, title, type, createdAt }) => ({ _id: id, title, type, createdAt }))).toEqual(items.map(({ _id, title, type, createdAt }) => ({ _id, title, type, createdAt })));
      // Bodies as they are; an unclosed code fence is closed so it cannot swallow the next section.
      expect(sections.map((section) => section.body)).toEqual(items.map((item) => (item.body.endsWith('unclosed fence') ? `${item.body}\n\`\`\`` : item.body)));
      expect(sections[0]).toMatchObject({ provider: 'offline', model: 'offline-model', usage, sourceJobId: items[0].sourceJobId });
    });

    it('exports a PDF whose text holds each title and body line, accents, headings, bullets and page numbers', async () => {
      const file = await download(carol, '/content/export?format=pdf');

      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('application/pdf');
      expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="library-\d{4}-\d{2}-\d{2}\.pdf"$/);
      expect(file.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = await pdfText(file.bytes);
      for (const item of items) expect(text).toContain(item.title);
      for (const line of ['Ærøskøbing and Łódź', 'Καλημέρα · Привет', 'line one', 'not front matter', 'Generated text #launch', 'Heading one', 'Heading two', 'Heading three', 'The end.']) {
        expect(text).toContain(line);
      }
      expect(text).toContain('Intro with bold text.');
      expect(text).not.toMatch(/^#+ /m);
      expect(text).toMatch(/•\s+first bullet/);
      expect(text).toMatch(/•\s+second bullet/);
      expect(text).toMatch(/1\.\s+step one/);
      expect(text).toContain('Social Media Caption · ');
      expect(text).toContain('Page 1');
      expect(text).toContain('End of export: 4 items.');
    });

    it('exports only the items matching search, or the listed ids of the caller (others left out)', async () => {
      const searched = JSON.parse((await download(carol, `/content/export?format=json&search=${encodeURIComponent('CRÈME')}`)).text);
      expect(searched.items.map((item: Item) => item.title)).toEqual(['Crème brûlée à la française']);

      const bobs = await create(bob, 'Bob private', 'secret');
      const chosen = [items[3]._id, bobs._id, items[1]._id, new Types.ObjectId().toHexString(), items[3]._id.toUpperCase()];
      const listed = await download(carol, `/content/export?format=json&ids=${chosen.join(',')}`);
      expect(listed.status).toBe(200);
      const parsed = JSON.parse(listed.text);
      // Newest first, each once, Bob's and the unknown id left out.
      expect(parsed.items.map((item: Item) => item._id)).toEqual([items[1]._id, items[3]._id]);
      expect(parsed.count).toBe(2);
      expect(listed.text).not.toContain('secret');
    });

    it('exports one item in each format, named after its title', async () => {
      const item = items.find((entry) => entry.title.startsWith('Crème'))!;
      const json = await download(carol, `/content/${item._id}/export?format=json`);
      expect(json.status).toBe(200);
      expect(json.headers.get('content-disposition')).toBe(
        `attachment; filename="creme-brulee-a-la-francaise.json"; filename*=UTF-8''${encodeURIComponent('Crème brûlée à la française')}.json`,
      );
      expect(JSON.parse(json.text)).toEqual({ exportedAt: expect.any(String), truncated: false, items: [item], count: 1 });

      const markdown = await download(carol, `/content/${item._id}/export?format=markdown`);
      expect(markdown.headers.get('content-disposition')).toContain('filename="creme-brulee-a-la-francaise.md"');
      const parsed = parseMarkdown(markdown.text);
      expect(parsed.front.title).toBe(item.title);
      expect(parsed.items).toEqual([expect.objectContaining({ id: item._id, title: item.title, body: item.body })]);

      const pdf = await download(carol, `/content/${item._id}/export?format=pdf`);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(pdf.headers.get('content-disposition')).toContain('filename="creme-brulee-a-la-francaise.pdf"');
      const text = await pdfText(pdf.bytes);
      expect(text).toContain('Crème brûlée à la française');
      expect(text).toContain('Ærøskøbing and Łódź');
      expect(text).not.toContain('Ten tips');
    });

    it("answers 404 to another user's item, an unknown id and a malformed one", async () => {
      const item = items[0];
      const other = await download(bob, `/content/${item._id}/export?format=pdf`);
      const unknown = await download(bob, `/content/${new Types.ObjectId().toHexString()}/export?format=pdf`);
      const malformed = await download(bob, `/content/not-an-id/export?format=json`);
      expect([other.status, unknown.status, malformed.status]).toEqual([404, 404, 404]);
      expect(JSON.parse(other.text)).toEqual(JSON.parse(unknown.text));
      expect(other.text).not.toContain(item.title);
    });
  });

  it('renders emoji and CJK it has no glyphs for as replacement characters instead of failing', async () => {
    const dave = await registerUser(api.url, 'Dave');
    const item = await create(dave, 'Launch day 🚀 发布', 'We shipped 🎉👨‍👩‍👧 today.\n日本語のテキスト\nStill readable after.');

    const file = await download(dave, `/content/${item._id}/export?format=pdf`);
    expect(file.status).toBe(200);
    const text = await pdfText(file.bytes);
    expect(text).toContain('Launch day \ufffd \ufffd');
    expect(text).toContain('We shipped \ufffd today.');
    expect(text).toContain('Still readable after.');
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="launch-day.pdf"; filename*=UTF-8''${encodeURIComponent('Launch day 🚀 发布')}.pdf`);

    const all = await download(dave, '/content/export?format=pdf');
    expect(all.status).toBe(200);
    expect(await pdfText(all.bytes)).toContain('Still readable after.');
  });

  it('keeps a hostile title out of the headers and out of the path of the saved file', async () => {
    const eve = await registerUser(api.url, 'Eve');
    const title = '../../etc/passwd "x"\r\nSet-Cookie: a=b';
    const item = await create(eve, title, 'body');

    for (const format of ['json', 'markdown', 'pdf']) {
      const file = await download(eve, `/content/${item._id}/export?format=${format}`);
      expect(file.status).toBe(200);
      expect(file.headers.get('set-cookie')).toBeNull();
      const disposition = file.headers.get('content-disposition')!;
      expect(disposition).not.toMatch(/[\r\n]/);
      const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+)$/.exec(disposition);
      expect(match).not.toBeNull();
      const [, ascii, encoded] = match!;
      expect(ascii).toMatch(/^[a-z0-9][A-Za-z0-9._-]*\.(json|md|pdf)$/);
      expect(ascii).toBe(`etc-passwd-x-set-cookie-a-b.${format === 'markdown' ? 'md' : format}`);
      const real = decodeURIComponent(encoded);
      expect(real).not.toMatch(/[/\\"\r\n]|^\./);
      expect(real).toContain('passwd');
    }
    // The title itself survives inside the file.
    const json = await download(eve, `/content/${item._id}/export?format=json`);
    expect(JSON.parse(json.text).items[0].title).toBe(title);
  });

  const someId = () => new Types.ObjectId().toHexString();
  it.each([
    ['format', 'no format', () => '/content/export'],
    ['format', 'format=docx', () => '/content/export?format=docx'],
    ['format', 'two formats', () => '/content/export?format=json&format=pdf'],
    ['ids', 'empty ids', () => '/content/export?format=json&ids='],
    ['ids', 'ids that are not ids', () => '/content/export?format=json&ids=123,abc'],
    ['ids', 'an empty id in the list', () => `/content/export?format=json&ids=${someId()},,`],
    ['ids', '501 ids', () => `/content/export?format=json&ids=${Array.from({ length: 501 }, someId).join(',')}`],
    ['ids', 'ids with search', () => `/content/export?format=json&search=x&ids=${someId()}`],
    ['search', 'a search of 201 characters', () => `/content/export?format=json&search=${'a'.repeat(201)}`],
    ['unknown', 'an unknown parameter', () => '/content/export?format=json&unknown=1'],
  ])('answers 400 naming %s for %s', async (field, _name, path) => {
    const response = await call('GET', path(), { token: alice.token });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(field);
  });

  it('answers 400 naming format for a single item export with a bad format', async () => {
    const item = await create(alice, 'one');
    for (const query of ['', '?format=csv']) {
      const response = await call('GET', `/content/${item._id}/export${query}`, { token: alice.token });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('format');
    }
  });

  it('refuses exports without a token with 401', async () => {
    expect((await call('GET', '/content/export?format=json')).status).toBe(401);
    expect((await call('GET', `/content/${new Types.ObjectId().toHexString()}/export?format=json`)).status).toBe(401);
  });

  it('documents the export routes in OpenAPI', async () => {
    const document = await call('GET', '/docs-json');
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/content/export', '/content/{id}/export']));
    const operation = document.body.paths['/content/export'].get;
    expect(operation.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining(['format', 'search', 'ids']));
    expect(Object.keys(operation.responses['200'].content)).toEqual(expect.arrayContaining(['application/json', 'text/markdown', 'application/pdf']));
  });

  describe('with EXPORT_MAX_ITEMS=2', () => {
    let small: RunningApi;
    beforeAll(async () => {
      small = await startApi(testEnv('content-export-small', { EXPORT_MAX_ITEMS: '2' }));
    });
    afterAll(() => small.close());

    it('exports the newest two items and says it stopped short, in the file and in a header', async () => {
      const frank = await registerUser(small.url, 'Frank');
      for (const title of ['oldest', 'middle', 'newest']) await http(small.url, 'POST', '/content', { token: frank.token, body: { title, type: 'Blog Post Outline', body: 'b' } });
      const ids = (await http(small.url, 'GET', '/content', { token: frank.token })).body.map((item: Item) => item._id);

      const json = await download(frank, '/content/export?format=json', small.url);
      expect(json.headers.get('x-export-truncated')).toBe('true');
      expect(JSON.parse(json.text)).toMatchObject({ truncated: true, limit: 2, count: 2 });
      expect(JSON.parse(json.text).items.map((item: Item) => item.title)).toEqual(['newest', 'middle']);

      const markdown = await download(frank, '/content/export?format=markdown', small.url);
      expect(parseMarkdown(markdown.text).front).toMatchObject({ truncated: true, limit: 2 });
      expect(markdown.text).toContain('Only the newest 2 items');

      const pdf = await download(frank, '/content/export?format=pdf', small.url);
      expect(pdf.headers.get('x-export-truncated')).toBe('true');
      expect(await pdfText(pdf.bytes)).toContain('Only the newest 2 items');

      const listed = await download(frank, `/content/export?format=json&ids=${ids.join(',')}`, small.url);
      expect(listed.headers.get('x-export-truncated')).toBe('true');
      expect(JSON.parse(listed.text).items.map((item: Item) => item.title)).toEqual(['newest', 'middle']);

      const searched = await download(frank, '/content/export?format=json&search=middle', small.url);
      expect(searched.headers.get('x-export-truncated')).toBeNull();
      expect(JSON.parse(searched.text)).toMatchObject({ truncated: false, count: 1 });
    });
  });

  it('streams 2,000 items of 5 kB as a PDF to a slow client with bounded memory', async () => {
    const grace = await registerUser(api.url, 'Grace');
    const words = 'content marketing remote teams launch product growth strategy customers value écrire naïve façade'.split(' ');
    const docs = Array.from({ length: 2_000 }, (_, index) => {
      let body = `## Part ${index}\n- point one\n- point two\n`;
      for (let word = index; body.length < 5_000; word += 7) body += `${words[word % words.length]}${word % 13 === 0 ? '.\n' : ' '}`;
      const at = new Date(Date.UTC(2026, 0, 1) + index * 1000);
      return { userId: new Types.ObjectId(grace.id), title: `Bulk item ${index}`, type: 'Blog Post Outline', body, sourceKey: `manual:${new Types.ObjectId().toHexString()}`, createdAt: at, updatedAt: at };
    });
    const contents = api.app.get<Connection>(getConnectionToken()).collection('contents');
    for (let start = 0; start < docs.length; start += 500) await contents.insertMany(docs.slice(start, start + 500));
    docs.length = 0;

    // Retained heap is read after a full collection, while the client pauses: then the API holds only what
    // the export needs at that moment. The raw peak (garbage included) is printed as well.
    const collect = exposedGc();
    collect();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let retained = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
    const started = Date.now();
    const response = await fetch(`${api.url}/content/export?format=pdf`, { headers: { authorization: `Bearer ${grace.token}` } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    let nextPause = 512 * 1024;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (received >= nextPause) {
        // A slow client: the API must wait for it rather than produce (and hold) the rest of the export.
        nextPause += 512 * 1024;
        await sleep(150);
        collect();
        retained = Math.max(retained, process.memoryUsage().heapUsed);
      }
    }
    clearInterval(sampler);
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `PDF export of 2,000 items x 5 kB: ${mb(received)} MB in ${Date.now() - started} ms (slow client); heapUsed ${mb(baseline)} MB before, ` +
        `at most ${mb(retained)} MB retained while paused (+${mb(retained - baseline)} MB), raw peak ${mb(peak)} MB (+${mb(peak - baseline)} MB, garbage included)`,
    );
    expect((retained - baseline) / 2 ** 20).toBeLessThan(30);
    expect((peak - baseline) / 2 ** 20).toBeLessThan(120);

    const pdf = Buffer.concat(chunks);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-8).toString('latin1')).toContain('%%EOF');
    const firstPages = await pdfText(pdf, { first: 1, last: 2 });
    expect(firstPages).toContain('Bulk item 1999');
    expect(firstPages).toMatch(/•\s+point one/);
  }, 180_000);
});
