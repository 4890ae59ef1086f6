import { Types } from 'mongoose';
import { BUILT_IN_TEMPLATES, MAX_TEMPLATES_PER_USER, MAX_VARIABLES } from '@app/templates';
import { http, registerUser, RunningApi, startApi } from './support/api';
import { testEnv } from './support/test-env';

type User = Awaited<ReturnType<typeof registerUser>>;
interface Template {
  _id: string;
  name: string;
  contentType: string;
  prompt: string;
  variables: { name: string; description?: string; required: boolean; default?: string }[];
  builtIn: boolean;
}

const TEMPLATE_KEYS = ['_id', 'builtIn', 'contentType', 'name', 'prompt', 'variables'];
const newsletter = {
  name: 'Newsletter intro',
  contentType: 'Blog Post Outline',
  prompt: 'Outline a newsletter issue about {{topic}} for {{ audience }}.',
  variables: [
    { name: 'topic', description: 'What the issue covers', required: true },
    { name: 'audience', default: 'our subscribers' },
  ],
};

describe('Templates (HTTP through the real app)', () => {
  let api: RunningApi;
  let alice: User;
  let bob: User;
  const call = (method: string, path: string, options?: Parameters<typeof http>[3]) => http(api.url, method, path, options);
  const create = async (user: User, body: object = newsletter): Promise<Template> => {
    const response = await call('POST', '/templates', { token: user.token, body });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const fieldsOf = (body: { details?: { field: string }[] }) => (body.details ?? []).map((detail) => detail.field);

  beforeAll(async () => {
    api = await startApi(testEnv('templates'));
    [alice, bob] = await Promise.all([registerUser(api.url, 'Alice'), registerUser(api.url, 'Bob')]);
  });
  afterAll(() => api.close());

  it('answers 401 without a token on every route', async () => {
    const id = BUILT_IN_TEMPLATES[0]._id;
    const responses = await Promise.all([
      call('GET', '/templates'),
      call('GET', `/templates/${id}`),
      call('POST', '/templates', { body: newsletter }),
      call('PUT', `/templates/${id}`, { body: { name: 'x' } }),
      call('DELETE', `/templates/${id}`),
    ]);
    expect(responses.map((response) => response.status)).toEqual([401, 401, 401, 401, 401]);
  });

  it("lists the built-in templates and the caller's own, never another user's", async () => {
    const carol = await registerUser(api.url, 'Carol');
    const mine = await create(carol);
    const theirs = await create(bob, { ...newsletter, name: 'Bob only' });

    const listed = await call('GET', '/templates', { token: carol.token });

    expect(listed.status).toBe(200);
    const ids = (listed.body as Template[]).map((template) => template._id);
    expect(ids).toEqual([...BUILT_IN_TEMPLATES.map((template) => template._id), mine._id]);
    expect(ids).not.toContain(theirs._id);
    for (const template of listed.body as Template[]) expect(Object.keys(template).sort()).toEqual(TEMPLATE_KEYS);
    expect((listed.body as Template[]).filter((template) => template.builtIn)).toHaveLength(BUILT_IN_TEMPLATES.length);
  });

  it('lists one content type when asked, by exact name or slug', async () => {
    const dave = await registerUser(api.url, 'Dave');
    const own = await create(dave, { ...newsletter, contentType: 'product-description', prompt: 'Describe {{topic}} for {{audience}}' });
    for (const type of ['Product Description', 'product-description']) {
      const listed = await call('GET', `/templates?contentType=${encodeURIComponent(type)}`, { token: dave.token });
      expect(listed.status).toBe(200);
      expect((listed.body as Template[]).every((template) => template.contentType === 'Product Description')).toBe(true);
      expect((listed.body as Template[]).length).toBeGreaterThanOrEqual(4);
      expect((listed.body as Template[]).map((template) => template._id)).toContain(own._id);
    }
    const bad = await call('GET', '/templates?contentType=Poem', { token: dave.token });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['contentType']);
  });

  it('reads a built-in template by its slug', async () => {
    const response = await call('GET', '/templates/seo-blog-outline', { token: alice.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(BUILT_IN_TEMPLATES.find((template) => template._id === 'seo-blog-outline'));
    expect(response.body.builtIn).toBe(true);
  });

  it('creates, reads, updates and deletes an own template', async () => {
    const created = await call('POST', '/templates', { token: alice.token, body: { ...newsletter, name: '  Newsletter intro  ', contentType: 'blog-post' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Newsletter intro',
      contentType: 'Blog Post Outline',
      prompt: newsletter.prompt,
      variables: [
        { name: 'topic', description: 'What the issue covers', required: true },
        { name: 'audience', required: false, default: 'our subscribers' },
      ],
      builtIn: false,
    });
    const id = created.body._id;
    expect((await call('GET', `/templates/${id}`, { token: alice.token })).body).toEqual(created.body);

    const renamed = await call('PUT', `/templates/${id}`, { token: alice.token, body: { name: 'Renamed' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ ...created.body, name: 'Renamed' });

    const reworked = await call('PUT', `/templates/${id}`, {
      token: alice.token,
      body: { contentType: 'Social Media Caption', prompt: 'A caption about {{topic}}', variables: [{ name: 'topic', required: true }] },
    });
    expect(reworked.status).toBe(200);
    expect(reworked.body).toEqual({ _id: id, name: 'Renamed', contentType: 'Social Media Caption', prompt: 'A caption about {{topic}}', variables: [{ name: 'topic', required: true }], builtIn: false });
    expect((await call('GET', `/templates/${id}`, { token: alice.token })).body).toEqual(reworked.body);

    const deleted = await call('DELETE', `/templates/${id}`, { token: alice.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id });
    expect((await call('GET', `/templates/${id}`, { token: alice.token })).status).toBe(404);
    expect((await call('DELETE', `/templates/${id}`, { token: alice.token })).status).toBe(404);
  });

  it('accepts a template without variables', async () => {
    const created = await create(alice, { name: 'Plain', contentType: 'Social Media Caption', prompt: 'A caption for a rainy Monday' });
    expect(created.variables).toEqual([]);
  });

  it.each(BUILT_IN_TEMPLATES.map((template) => template._id).slice(0, 3))('answers 403 to changing or deleting the built-in %s, which stays as it was', async (id) => {
    const put = await call('PUT', `/templates/${id}`, { token: alice.token, body: { name: 'Hijacked' } });
    const del = await call('DELETE', `/templates/${id}`, { token: alice.token });
    expect([put.status, del.status]).toEqual([403, 403]);
    expect(put.body.error).toBe('TEMPLATE_READ_ONLY');
    expect(typeof put.body.message).toBe('string');
    expect((await call('GET', `/templates/${id}`, { token: alice.token })).body).toEqual(BUILT_IN_TEMPLATES.find((template) => template._id === id));
  });

  it("answers 404 to another user's template on GET, PUT and DELETE and leaves it unchanged", async () => {
    const owned = await create(alice, { ...newsletter, name: 'Alice private' });
    const path = `/templates/${owned._id}`;
    const responses = [
      await call('GET', path, { token: bob.token }),
      await call('PUT', path, { token: bob.token, body: { name: 'hijacked' } }),
      await call('DELETE', path, { token: bob.token }),
    ];
    expect(responses.map((response) => response.status)).toEqual([404, 404, 404]);
    const missing = await call('GET', `/templates/${new Types.ObjectId().toHexString()}`, { token: bob.token });
    expect(missing.status).toBe(404);
    expect(responses[0].body).toEqual(missing.body);
    expect((await call('GET', path, { token: alice.token })).body).toEqual(owned);
  });

  it.each(['123', 'not-a-template', encodeURIComponent('{"$ne":null}'), 'A'.repeat(24)])('answers 404 (never 500) to the id %s', async (id) => {
    const responses = [
      await call('GET', `/templates/${id}`, { token: alice.token }),
      await call('PUT', `/templates/${id}`, { token: alice.token, body: { name: 'x' } }),
      await call('DELETE', `/templates/${id}`, { token: alice.token }),
    ];
    expect(responses.map((response) => response.status)).toEqual([404, 404, 404]);
  });

  const variable = (overrides: object) => ({ ...newsletter, prompt: 'About {{topic}}', variables: [{ name: 'topic', required: true, ...overrides }] });
  it.each([
    ['name', { ...newsletter, name: '   ' }],
    ['name', { ...newsletter, name: 'x'.repeat(101) }],
    ['contentType', { ...newsletter, contentType: 'Poem' }],
    ['contentType', { ...newsletter, contentType: undefined }],
    ['prompt', { ...newsletter, prompt: '  ' }],
    ['prompt', { ...newsletter, prompt: `{{topic}} {{audience}} ${'x'.repeat(4000)}` }],
    ['prompt', { ...newsletter, prompt: 'About {{topic}} for {{audience}} in {{undeclared}}' }],
    ['prompt', { ...newsletter, prompt: 'About {{topic}} for {{audience}}, {{not a name}}' }],
    ['variables', { ...newsletter, variables: 'topic' }],
    ['variables', { ...newsletter, variables: Array.from({ length: MAX_VARIABLES + 1 }, (_, index) => ({ name: `v${index}` })) }],
    ['variables.0.name', variable({ name: '1topic' })],
    ['variables.0.name', variable({ name: 'has space' })],
    ['variables.0.name', variable({ name: 'x'.repeat(41) })],
    ['variables.0.name', variable({ name: 42 })],
    ['variables.0.required', variable({ required: 'yes' })],
    ['variables.0.description', variable({ description: 'd'.repeat(301) })],
    ['variables.0.default', variable({ required: false, default: 'd'.repeat(1001) })],
    ['variables.0.default', variable({ required: true, default: 'x' })],
    ['variables.0.extra', variable({ extra: true })],
    ['variables.1.name', { ...newsletter, prompt: 'About {{topic}}' }],
    ['variables.1.name', { ...newsletter, prompt: 'About {{topic}}', variables: [{ name: 'topic' }, { name: 'topic', required: false }] }],
    ['builtIn', { ...newsletter, builtIn: true }],
    ['_id', { ...newsletter, _id: new Types.ObjectId().toHexString() }],
    ['userId', { ...newsletter, userId: new Types.ObjectId().toHexString() }],
  ])('refuses a bad %s on create with 400 naming the field, and stores nothing', async (field, body) => {
    const user = await registerUser(api.url, 'Eve');
    const response = await call('POST', '/templates', { token: user.token, body });
    expect(response.status).toBe(400);
    expect(typeof response.body.message).toBe('string');
    expect(fieldsOf(response.body)).toContain(field);
    const listed = await call('GET', '/templates', { token: user.token });
    expect((listed.body as Template[]).filter((template) => !template.builtIn)).toEqual([]);
  });

  it.each([
    ['an empty body', {}, []],
    ['a null name', { name: null }, ['name']],
    ['a prompt using an undeclared variable', { prompt: 'About {{topic}} and {{audience}} and {{more}}' }, ['prompt']],
    ['a prompt that drops a declared variable', { prompt: 'About {{topic}}' }, ['variables.1.name']],
    ['variables that leave a placeholder undeclared', { variables: [{ name: 'topic' }] }, ['prompt']],
    ['a bad content type', { contentType: 'Essay' }, ['contentType']],
  ])('refuses %s on update with 400 and leaves the template unchanged', async (_name, body, fields) => {
    const created = await create(alice);
    const response = await call('PUT', `/templates/${created._id}`, { token: alice.token, body });
    expect(response.status).toBe(400);
    expect(fieldsOf(response.body)).toEqual(fields);
    expect((await call('GET', `/templates/${created._id}`, { token: alice.token })).body).toEqual(created);
  });

  it('stores a prompt with braces and odd text as written, and placeholders with spaces inside', async () => {
    const prompt = 'Use {single} braces, $1 and $& literally, about {{  topic }} — ✓ 👨‍👩‍👧';
    const created = await create(alice, { ...newsletter, prompt, variables: [{ name: 'topic' }] });
    expect(created.prompt).toBe(prompt);
  });

  it('answers 409 beyond the per-user template count, and accepts a new one after a delete', async () => {
    const frank = await registerUser(api.url, 'Frank');
    const created: Template[] = [];
    for (let index = 0; index < MAX_TEMPLATES_PER_USER; index++) created.push(await create(frank, { ...newsletter, name: `T${index}` }));
    const over = await call('POST', '/templates', { token: frank.token, body: newsletter });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ error: 'TEMPLATE_LIMIT_REACHED', limit: MAX_TEMPLATES_PER_USER });
    expect((await call('DELETE', `/templates/${created[0]._id}`, { token: frank.token })).status).toBe(200);
    await create(frank);
    // The cap is per user: others still create.
    await create(bob, { ...newsletter, name: 'Bob again' });
  });

  it('documents every route in the OpenAPI description', async () => {
    const document = (await call('GET', '/docs-json')).body;
    expect(Object.keys(document.paths['/templates']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(document.paths['/templates/{id}']).sort()).toEqual(['delete', 'get', 'put']);
    expect(document.components.schemas.TemplateDto.required).toEqual(expect.arrayContaining(TEMPLATE_KEYS));
  });
});
