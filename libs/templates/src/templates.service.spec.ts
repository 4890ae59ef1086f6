import { randomBytes } from 'node:crypto';
import { DomainError } from '@app/common';
import { strictMock } from '@app/testing';
import { BUILT_IN_TEMPLATES } from './built-in-templates';
import { MAX_TEMPLATES_PER_USER, TemplateInput, TemplateView } from './template.types';
import { TemplatesRepository } from './templates.repository';
import { TemplatesService } from './templates.service';

/** 24 hex digits, the shape of a stored id. */
const newId = (): string => randomBytes(12).toString('hex');
const userId = newId();
const templateId = newId();
const builtIn = BUILT_IN_TEMPLATES[0];

const templateStub = {
  input: (overrides: Partial<TemplateInput> = {}): TemplateInput => ({
    name: 'Newsletter intro',
    contentType: 'Blog Post Outline',
    prompt: 'Introduce {{topic}} in a {{tone}} way.',
    variables: [{ name: 'topic' }, { name: 'tone', default: 'warm' }],
    ...overrides,
  }),
  own: (overrides: Partial<TemplateView> = {}): TemplateView => ({
    _id: templateId,
    name: 'Newsletter intro',
    contentType: 'Blog Post Outline',
    prompt: 'Introduce {{topic}} in a {{tone}} way.',
    variables: [
      { name: 'topic', required: true },
      { name: 'tone', required: false, default: 'warm' },
    ],
    builtIn: false,
    ...overrides,
  }),
};

async function failureOf(promise: Promise<unknown>): Promise<{ code: string; fields: string[] }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const details = (error.details?.details ?? []) as { field: string }[];
    return { code: error.code, fields: details.map((detail) => detail.field) };
  }
  throw new Error('expected a DomainError');
}

describe(TemplatesService.name, () => {
  let sut: TemplatesService;
  let templates: jest.Mocked<TemplatesRepository>;

  beforeEach(() => {
    templates = strictMock(TemplatesRepository);
    sut = new TemplatesService(templates);
  });

  describe('list', () => {
    it('lists the built-in templates first, then the caller own', async () => {
      templates.list.mockResolvedValueOnce([templateStub.own()]);

      const listed = await sut.list(userId);

      expect(listed).toEqual([...BUILT_IN_TEMPLATES, templateStub.own()]);
      expect(templates.list).toHaveBeenCalledWith(userId);
    });

    it('keeps one content type when asked', async () => {
      templates.list.mockResolvedValueOnce([templateStub.own(), templateStub.own({ contentType: 'Product Description' })]);

      const listed = await sut.list(userId, 'Blog Post Outline');

      expect(listed.length).toBeGreaterThanOrEqual(4);
      expect(listed.every((template) => template.contentType === 'Blog Post Outline')).toBe(true);
    });

    it('hands out copies, so a caller cannot change the shared built-ins', async () => {
      templates.list.mockResolvedValueOnce([]);
      const [first] = await sut.list(userId);
      first.prompt = 'changed';
      first.variables.length = 0;
      expect(BUILT_IN_TEMPLATES[0].prompt).not.toBe('changed');
      expect(BUILT_IN_TEMPLATES[0].variables.length).toBeGreaterThan(0);
    });
  });

  describe('get', () => {
    it('answers a built-in template without reading the database', async () => {
      expect(await sut.get(userId, builtIn._id)).toEqual(builtIn);
    });

    it("answers the caller's own template, looked up as theirs", async () => {
      templates.findOwned.mockResolvedValueOnce(templateStub.own());
      expect(await sut.get(userId, templateId)).toEqual(templateStub.own());
      expect(templates.findOwned).toHaveBeenCalledWith(userId, templateId);
    });

    it('is TEMPLATE_NOT_FOUND for anything else (another user, unknown, malformed)', async () => {
      templates.findOwned.mockResolvedValueOnce(undefined);
      expect(await failureOf(sut.get(userId, 'nope'))).toEqual({ code: 'TEMPLATE_NOT_FOUND', fields: [] });
    });
  });

  describe('create', () => {
    it('stores only the editable fields, with required defaulting to "no default given"', async () => {
      templates.count.mockResolvedValueOnce(3);
      templates.create.mockResolvedValueOnce(templateStub.own());
      const input = { ...templateStub.input(), _id: 'x', builtIn: true, userId: newId() } as TemplateInput;

      expect(await sut.create(userId, input)).toEqual(templateStub.own());

      expect(templates.create).toHaveBeenCalledWith(userId, {
        name: 'Newsletter intro',
        contentType: 'Blog Post Outline',
        prompt: 'Introduce {{topic}} in a {{tone}} way.',
        variables: [
          { name: 'topic', required: true },
          { name: 'tone', required: false, default: 'warm' },
        ],
      });
    });

    it('accepts a template without variables', async () => {
      templates.count.mockResolvedValueOnce(0);
      templates.create.mockResolvedValueOnce(templateStub.own());
      await sut.create(userId, templateStub.input({ prompt: 'Plain', variables: undefined }));
      expect(templates.create).toHaveBeenCalledWith(userId, expect.objectContaining({ prompt: 'Plain', variables: [] }));
    });

    it.each([
      ['prompt', templateStub.input({ prompt: 'Introduce {{topic}} in a {{tone}} way, {{other}}' })],
      ['variables.1.name', templateStub.input({ prompt: 'Introduce {{topic}}' })],
      ['variables.0.default', templateStub.input({ prompt: '{{topic}}', variables: [{ name: 'topic', required: true, default: 'x' }] })],
    ])('refuses a template whose definition is wrong, naming %s, and stores nothing', async (field, input) => {
      expect(await failureOf(sut.create(userId, input))).toEqual({ code: 'INVALID_ARGUMENT', fields: [field] });
    });

    it('is TEMPLATE_LIMIT_REACHED at the per-user cap', async () => {
      templates.count.mockResolvedValueOnce(MAX_TEMPLATES_PER_USER);
      expect(await failureOf(sut.create(userId, templateStub.input()))).toEqual({ code: 'TEMPLATE_LIMIT_REACHED', fields: [] });
      expect(templates.count).toHaveBeenCalledWith(userId);
    });
  });

  describe('update', () => {
    it('merges the changes into the stored template and checks the result as a whole', async () => {
      const changed = templateStub.own({ prompt: 'About {{topic}}, {{tone}}, for {{audience}}' });
      templates.findOwned.mockResolvedValueOnce(templateStub.own());
      templates.replace.mockResolvedValueOnce(changed);
      const variables = [{ name: 'topic' }, { name: 'tone', default: 'warm' }, { name: 'audience', required: false }];

      expect(await sut.update(userId, templateId, { prompt: changed.prompt, variables })).toEqual(changed);

      expect(templates.replace).toHaveBeenCalledWith(templateId, {
        name: 'Newsletter intro',
        contentType: 'Blog Post Outline',
        prompt: changed.prompt,
        variables: [
          { name: 'topic', required: true },
          { name: 'tone', required: false, default: 'warm' },
          { name: 'audience', required: false },
        ],
      });
    });

    it('refuses a change that leaves a placeholder undeclared, naming prompt', async () => {
      templates.findOwned.mockResolvedValueOnce(templateStub.own());
      expect(await failureOf(sut.update(userId, templateId, { prompt: '{{topic}} {{tone}} {{new}}' }))).toEqual({ code: 'INVALID_ARGUMENT', fields: ['prompt'] });
    });

    it('is TEMPLATE_READ_ONLY for a built-in template', async () => {
      expect(await failureOf(sut.update(userId, builtIn._id, { name: 'Mine now' }))).toEqual({ code: 'TEMPLATE_READ_ONLY', fields: [] });
    });

    it('is TEMPLATE_NOT_FOUND for a template that is not the caller', async () => {
      templates.findOwned.mockResolvedValueOnce(undefined);
      expect(await failureOf(sut.update(userId, templateId, { name: 'x' }))).toEqual({ code: 'TEMPLATE_NOT_FOUND', fields: [] });
    });

    it('refuses an empty change', async () => {
      expect(await failureOf(sut.update(userId, templateId, {}))).toEqual({ code: 'INVALID_ARGUMENT', fields: [] });
    });
  });

  describe('remove', () => {
    it('deletes the caller own template and answers its id', async () => {
      templates.findOwned.mockResolvedValueOnce(templateStub.own());
      templates.delete.mockResolvedValueOnce(true);
      expect(await sut.remove(userId, templateId.toUpperCase())).toEqual({ id: templateId });
      expect(templates.delete).toHaveBeenCalledWith(templateId);
    });

    it('is TEMPLATE_READ_ONLY for a built-in and TEMPLATE_NOT_FOUND for another user', async () => {
      expect(await failureOf(sut.remove(userId, builtIn._id))).toEqual({ code: 'TEMPLATE_READ_ONLY', fields: [] });
      templates.findOwned.mockResolvedValueOnce(undefined);
      expect(await failureOf(sut.remove(userId, templateId))).toEqual({ code: 'TEMPLATE_NOT_FOUND', fields: [] });
    });
  });

  describe('render', () => {
    it('renders a built-in template with its defaults', async () => {
      const rendered = await sut.render(userId, 'seo-blog-outline', { topic: 'standing desks', targetKeyword: 'best standing desk', audience: 'remote workers' });
      expect(rendered.templateId).toBe('seo-blog-outline');
      expect(rendered.contentType).toBe('Blog Post Outline');
      expect(rendered.prompt).toContain('"best standing desk"');
      expect(rendered.prompt).toContain('about 1500 words');
    });

    it("renders the caller's own template", async () => {
      templates.findOwned.mockResolvedValueOnce(templateStub.own());
      expect(await sut.render(userId, templateId, { topic: 'tea' })).toEqual({ templateId, contentType: 'Blog Post Outline', prompt: 'Introduce tea in a warm way.' });
      expect(templates.findOwned).toHaveBeenCalledWith(userId, templateId);
    });

    it('names templateId for an unknown, foreign or malformed id', async () => {
      templates.findOwned.mockResolvedValue(undefined);
      for (const id of [newId(), 'no-such-template', '{"$ne":null}']) {
        expect(await failureOf(sut.render(userId, id, {}))).toEqual({ code: 'INVALID_ARGUMENT', fields: ['templateId'] });
      }
      expect(await failureOf(sut.render(userId, 42 as unknown as string, {}))).toEqual({ code: 'INVALID_ARGUMENT', fields: ['templateId'] });
    });

    it('names the variable that is missing or unknown', async () => {
      templates.findOwned.mockResolvedValue(templateStub.own());
      expect(await failureOf(sut.render(userId, templateId, {}))).toEqual({ code: 'INVALID_ARGUMENT', fields: ['variables.topic'] });
      expect(await failureOf(sut.render(userId, templateId, { topic: 'a', colour: 'b' }))).toEqual({ code: 'INVALID_ARGUMENT', fields: ['variables.colour'] });
    });
  });
});
