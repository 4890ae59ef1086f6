import { randomUUID } from 'node:crypto';
import { getConnectionToken } from '@nestjs/mongoose';
import { Connection, Types } from 'mongoose';
import { ContentService } from '@app/content';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { testEnv } from './support/test-env';

type User = Awaited<ReturnType<typeof registerUser>>;
interface Item {
  _id: string;
  userId: string;
  title: string;
  type: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  [provenance: string]: unknown;
}

const ITEM_KEYS = ['_id', 'body', 'createdAt', 'title', 'type', 'updatedAt', 'userId'];
const INVALID_IDS = ['123', 'not-an-id', encodeURIComponent('{"$ne":null}')];

describe('Content library (HTTP through the real app)', () => {
  let api: RunningApi;
  let alice: User;
  let bob: User;
  const call = (method: string, path: string, options?: Parameters<typeof http>[3]) => http(api.url, method, path, options);
  const create = async (user: User, body: object): Promise<Item> => {
    const response = await call('POST', '/content', { token: user.token, body });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const listAll = async (user: User, query = ''): Promise<Item[]> => {
    const response = await call('GET', `/content${query}`, { token: user.token });
    expect(response.status).toBe(200);
    return response.body;
  };
  const item = (title: string, body = 'Some body text', type = 'Blog Post Outline') => ({ title, type, body });

  beforeAll(async () => {
    api = await startApi(testEnv('content'));
    [alice, bob] = await Promise.all([registerUser(api.url, 'Alice'), registerUser(api.url, 'Bob')]);
  });
  afterAll(() => api.close());

  it('creates, reads, updates and deletes an item, returning only the public fields', async () => {
    const created = await call('POST', '/content', { token: alice.token, body: item('  My first post  ', 'Hello world') });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      userId: alice.id,
      title: 'My first post',
      type: 'Blog Post Outline',
      body: 'Hello world',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id = created.body._id;

    const read = await call('GET', `/content/${id}`, { token: alice.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(Object.keys(read.body).sort()).toEqual(ITEM_KEYS);

    const updated = await call('PUT', `/content/${id}`, { token: alice.token, body: { title: 'Renamed' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ _id: id, userId: alice.id, title: 'Renamed', type: 'Blog Post Outline', body: 'Hello world', createdAt: created.body.createdAt });
    expect(Date.parse(updated.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));

    const all = await call('PUT', `/content/${id}`, { token: alice.token, body: { title: 'Again', type: 'Product Description', body: 'New body' } });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ title: 'Again', type: 'Product Description', body: 'New body' });
    expect((await call('GET', `/content/${id}`, { token: alice.token })).body).toEqual(all.body);

    const deleted = await call('DELETE', `/content/${id}`, { token: alice.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id });
    expect((await call('GET', `/content/${id}`, { token: alice.token })).status).toBe(404);
    expect((await call('DELETE', `/content/${id}`, { token: alice.token })).status).toBe(404);
    expect((await listAll(alice)).map((entry) => entry._id)).not.toContain(id);
  });

  it("lists only the caller's items, newest first", async () => {
    const carol = await registerUser(api.url, 'Carol');
    const first = await create(carol, item('first'));
    const second = await create(carol, item('second'));
    const third = await create(carol, item('third'));
    await create(bob, item('not carol'));

    const listed = await listAll(carol);
    expect(listed.map((entry) => entry._id)).toEqual([third._id, second._id, first._id]);
    expect(listed.every((entry) => entry.userId === carol.id)).toBe(true);
    expect(JSON.stringify(listed)).not.toMatch(/sourceKey|__v/);
  });

  it.each([
    ['blog-post-outline', 'Blog Post Outline'],
    ['blog-post', 'Blog Post Outline'],
    ['product-description', 'Product Description'],
    ['social-media-caption', 'Social Media Caption'],
    ['Social Media Caption', 'Social Media Caption'],
  ])('accepts the type %s and stores %s', async (input, stored) => {
    const created = await create(alice, item('typed', 'body', input));
    expect(created.type).toBe(stored);
    expect((await call('GET', `/content/${created._id}`, { token: alice.token })).body.type).toBe(stored);

    const other = await create(alice, item('typed later', 'body', 'Product Description'));
    const updated = await call('PUT', `/content/${other._id}`, { token: alice.token, body: { type: input } });
    expect(updated.status).toBe(200);
    expect(updated.body.type).toBe(stored);
  });

  it.each([
    ['title', { type: 'Blog Post Outline', body: 'b' }],
    ['title', item('   ')],
    ['title', item('x'.repeat(201))],
    ['title', { title: 42, type: 'Blog Post Outline', body: 'b' }],
    ['type', { title: 't', type: 'Poem', body: 'b' }],
    ['type', { title: 't', body: 'b' }],
    ['type', { title: 't', type: { $ne: null }, body: 'b' }],
    ['body', item('t', '')],
    ['body', item('t', 'x'.repeat(50_001))],
    ['body', { title: 't', type: 'Blog Post Outline' }],
    ['isPublic', { ...item('t'), isPublic: true }],
    ['userId', { ...item('t'), userId: new Types.ObjectId().toHexString() }],
  ])('refuses a bad %s on create with 400 naming the field', async (field, body) => {
    const response = await call('POST', '/content', { token: alice.token, body });
    expect(response.status).toBe(400);
    expect(typeof response.body.message).toBe('string');
    expect(response.body.message).toContain(field);
    expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
  });

  it('accepts the longest title and body', async () => {
    const created = await create(alice, item('t'.repeat(200), 'b'.repeat(50_000)));
    expect(created.title).toHaveLength(200);
    expect(created.body).toHaveLength(50_000);
  });

  it.each([
    ['an empty body', {}, /title, type, body/],
    ['a null title', { title: null }, /title/],
    ['an empty title', { title: '  ' }, /title/],
    ['a bad type', { type: 'Essay' }, /type/],
    ['an empty body text', { body: '' }, /body/],
  ])('refuses %s on update with 400 and leaves the item unchanged', async (_name, body, message) => {
    const created = await create(alice, item('stable', 'stable body'));
    const response = await call('PUT', `/content/${created._id}`, { token: alice.token, body });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
    expect((await call('GET', `/content/${created._id}`, { token: alice.token })).body).toEqual(created);
  });

  it("answers 404 to another user's item on GET, PUT and DELETE and leaves it unchanged", async () => {
    const owned = await create(alice, item('private', 'only for alice'));
    const path = `/content/${owned._id}`;
    const get = await call('GET', path, { token: bob.token });
    const put = await call('PUT', path, { token: bob.token, body: { title: 'hijacked' } });
    const del = await call('DELETE', path, { token: bob.token });
    for (const response of [get, put, del]) {
      expect(response.status).toBe(404);
      expect(typeof response.body.message).toBe('string');
    }
    // The same answer as for an id that does not exist at all.
    const missing = await call('GET', `/content/${new Types.ObjectId().toHexString()}`, { token: bob.token });
    expect(missing.status).toBe(404);
    expect(get.body).toEqual(missing.body);

    expect((await call('GET', path, { token: alice.token })).body).toEqual(owned);
    expect((await listAll(bob)).map((entry) => entry._id)).not.toContain(owned._id);
  });

  it.each([
    ['userId', () => ({ userId: bob.id })],
    ['_id', () => ({ _id: new Types.ObjectId().toHexString() })],
    ['createdAt', () => ({ createdAt: '2001-01-01T00:00:00.000Z' })],
    ['updatedAt', () => ({ updatedAt: '2001-01-01T00:00:00.000Z' })],
    ['sourceKey', () => ({ sourceKey: 'job:taken' })],
  ])('never applies %s sent on PUT', async (field, extra) => {
    const created = await create(alice, item('mass assignment', 'body'));
    const response = await call('PUT', `/content/${created._id}`, { token: alice.token, body: { title: 'changed', ...extra() } });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(field);

    const after = await call('GET', `/content/${created._id}`, { token: alice.token });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(created);
    expect((await listAll(bob)).map((entry) => entry._id)).not.toContain(created._id);
  });

  describe('search', () => {
    let dave: User;
    const items: Record<string, Item> = {};
    const search = async (text: string) => (await listAll(dave, `?search=${encodeURIComponent(text)}`)).map((entry) => entry.title).sort();

    beforeAll(async () => {
      dave = await registerUser(api.url, 'Dave');
      const fixtures = {
        star: item('Literal .* star', 'plain'),
        paren: item('plain paren', 'An opening ( bracket'),
        square: item('plain square', 'A [ lonely square'),
        abc: item('abc', 'xyz'),
        mixedCase: item('Mixed CASE Title', 'plain'),
        bodyNeedle: item('plain needle', 'there is a NeEdLe here'),
        caption: item('plain caption', 'plain', 'Social Media Caption'),
        anchor: item('^start and end$', 'plain'),
      };
      for (const [name, fixture] of Object.entries(fixtures)) items[name] = await create(dave, fixture);
      await create(alice, item('Literal .* star of alice', 'needle'));
    });

    it('matches title, type and body case-insensitively', async () => {
      expect(await search('mixed case')).toEqual(['Mixed CASE Title']);
      expect(await search('NEEDLE')).toEqual(['plain needle']);
      expect(await search('social MEDIA')).toEqual(['plain caption']);
      expect(await search('PLAIN')).toEqual(['Literal .* star', 'Mixed CASE Title', '^start and end$', 'plain caption', 'plain needle', 'plain paren', 'plain square']);
    });

    it('treats regex metacharacters as literal text', async () => {
      expect(await search('.*')).toEqual(['Literal .* star']);
      expect(await search('(')).toEqual(['plain paren']);
      expect(await search('[')).toEqual(['plain square']);
      expect(await search('^start')).toEqual(['^start and end$']);
      expect(await search('end$')).toEqual(['^start and end$']);
      // As patterns these would match "abc" or everything; as text they match nothing.
      expect(await search('a.c')).toEqual([]);
      expect(await search('a|x')).toEqual([]);
      expect(await search('[a-z]+')).toEqual([]);
      expect(await search('\\w')).toEqual([]);
    });

    it('returns everything for an empty search and only the caller items', async () => {
      expect(await search('')).toHaveLength(Object.keys(items).length);
      expect(await search('of alice')).toEqual([]);
    });

    it('refuses an over-long or operator-shaped search with 400', async () => {
      expect((await call('GET', `/content?search=${'a'.repeat(200)}`, { token: dave.token })).status).toBe(200);
      const long = await call('GET', `/content?search=${'a'.repeat(201)}`, { token: dave.token });
      expect(long.status).toBe(400);
      expect(long.body.message).toContain('search');
      expect((await call('GET', '/content?search=a&search=b', { token: dave.token })).status).toBe(400);
      expect((await call('GET', `/content?${encodeURIComponent('search[$ne]')}=x`, { token: dave.token })).status).toBe(400);
    });
  });

  it.each(INVALID_IDS)('answers 404 (never 500) to the invalid id %s on GET, PUT and DELETE', async (id) => {
    const get = await call('GET', `/content/${id}`, { token: alice.token });
    const put = await call('PUT', `/content/${id}`, { token: alice.token, body: { title: 'x' } });
    const del = await call('DELETE', `/content/${id}`, { token: alice.token });
    expect([get.status, put.status, del.status]).toEqual([404, 404, 404]);
    expect(typeof get.body.message).toBe('string');
  });

  describe('pagination', () => {
    const walk = async (user: User, query: string) => {
      const pages: Item[][] = [];
      let path: string | undefined = `/content?${query}`;
      while (path) {
        const response = await call('GET', path, { token: user.token });
        expect(response.status).toBe(200);
        pages.push(response.body);
        const cursor = response.headers.get('x-next-cursor');
        const link = response.headers.get('link');
        // A relative reference (it keeps working behind a path prefix), resolved against the request's URL.
        if (cursor) expect(link).toBe(`<content?${query}&cursor=${cursor}>; rel="next"`);
        else expect(link).toBeNull();
        const next: URL | undefined = cursor ? new URL(link!.slice(1, link!.indexOf('>')), `http://api.test${path}`) : undefined;
        path = next && `${next.pathname}${next.search}`;
        if (pages.length > 20) throw new Error('pagination does not end');
      }
      return pages;
    };

    it('walks every item once with limit=2, items of the same instant included', async () => {
      const erin = await registerUser(api.url, 'Erin');
      for (let i = 0; i < 3; i++) await create(erin, item(`made ${i}`));
      // Three items created in the same millisecond: the cursor must break the tie by _id.
      const sameInstant = new Date();
      const raw = [0, 1, 2].map((i) => ({
        userId: new Types.ObjectId(erin.id),
        title: `same instant ${i}`,
        type: 'Blog Post Outline',
        body: 'tie',
        sourceKey: `manual:${new Types.ObjectId().toHexString()}`,
        createdAt: sameInstant,
        updatedAt: sameInstant,
      }));
      await api.app.get<Connection>(getConnectionToken()).collection('contents').insertMany(raw);

      const everything = (await listAll(erin)).map((entry) => entry._id);
      expect(everything).toHaveLength(6);
      const pages = await walk(erin, 'limit=2');
      expect(pages.map((page) => page.length)).toEqual([2, 2, 2]);
      expect(pages.flat().map((entry) => entry._id)).toEqual(everything);
    });

    it('keeps the search while paging and ends without a cursor', async () => {
      const frank = await registerUser(api.url, 'Frank');
      for (let i = 0; i < 5; i++) await create(frank, item(i % 2 ? `odd ${i}` : `Even ${i}`));
      const pages = await walk(frank, 'search=even&limit=1');
      expect(pages.flat().map((entry) => entry.title)).toEqual(['Even 4', 'Even 2', 'Even 0']);
      expect(pages.map((page) => page.length)).toEqual([1, 1, 1]);

      const single = await call('GET', '/content?limit=100', { token: frank.token });
      expect(single.body).toHaveLength(5);
      expect(single.headers.get('x-next-cursor')).toBeNull();
    });

    it.each(['0', '101', '-1', '1.5', 'abc', ''])('refuses limit=%s with 400', async (limit) => {
      const response = await call('GET', `/content?limit=${limit}`, { token: alice.token });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('limit');
    });

    it.each([
      ['garbage', 'not*base64!'],
      ['non-cursor', Buffer.from('hello').toString('base64url')],
      ['bad id', Buffer.from('2024-01-01T00:00:00.000Z|zzzzzzzzzzzzzzzzzzzzzzzz').toString('base64url')],
      ['bad date', Buffer.from(`2024-13-45T99:00:00.000Z|${new Types.ObjectId().toHexString()}`).toString('base64url')],
      ['too long', 'a'.repeat(500)],
    ])('refuses a %s cursor with 400', async (_name, cursor) => {
      const response = await call('GET', `/content?cursor=${encodeURIComponent(cursor)}`, { token: alice.token });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('cursor');
    });
  });

  describe('saveFromJob', () => {
    const usage = { promptTokens: 12, completionTokens: 34, totalTokens: 46, cost: 0.0012 };
    const input = (user: User, jobId: string) => ({
      userId: user.id,
      jobId,
      title: 'Generated: ten tips...',
      type: 'Social Media Caption' as const,
      body: 'Generated text',
      provider: 'offline',
      model: 'offline-model',
      usage,
    });

    it('saves once per job: the second call returns the same item with created false', async () => {
      const content = api.app.get(ContentService);
      const jobId = randomUUID();
      const first = await content.saveFromJob(input(alice, jobId));
      const second = await content.saveFromJob({ ...input(alice, jobId), title: 'Another title' });
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.item).toEqual(first.item);

      const listed = (await listAll(alice)).filter((entry) => entry.sourceJobId === jobId);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toEqual({
        _id: first.item._id,
        userId: alice.id,
        title: 'Generated: ten tips...',
        type: 'Social Media Caption',
        body: 'Generated text',
        sourceJobId: jobId,
        provider: 'offline',
        model: 'offline-model',
        usage,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect((await call('GET', `/content/${first.item._id}`, { token: alice.token })).body).toEqual(listed[0]);
      expect((await call('GET', `/content/${first.item._id}`, { token: bob.token })).status).toBe(404);
    });

    it('creates exactly one item when saves of the same job race', async () => {
      const content = api.app.get(ContentService);
      const jobId = randomUUID();
      const results = await Promise.all(Array.from({ length: 5 }, () => content.saveFromJob(input(bob, jobId))));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.item._id)).size).toBe(1);
      expect((await listAll(bob)).filter((entry) => entry.sourceJobId === jobId)).toHaveLength(1);
    });
  });

  it('keeps the list index and a unique sourceKey index (FerretDB: no sparse or partial indexes)', async () => {
    const indexes = await api.app.get<Connection>(getConnectionToken()).collection('contents').indexes();
    expect(indexes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: { userId: 1, createdAt: -1, _id: -1 } }),
        expect.objectContaining({ key: { sourceKey: 1 }, unique: true }),
      ]),
    );
  });

  it('refuses requests without a token with 401', async () => {
    expect((await call('GET', '/content')).status).toBe(401);
    expect((await call('POST', '/content', { body: item('t') })).status).toBe(401);
    expect((await call('DELETE', `/content/${new Types.ObjectId().toHexString()}`)).status).toBe(401);
  });

  it('documents the routes in OpenAPI', async () => {
    const document = await call('GET', '/docs-json');
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/content', '/content/{id}']));
  });
});
