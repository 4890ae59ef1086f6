import { Injectable } from '@nestjs/common';
import { ContentType, DomainError } from '@app/common';
import { BUILT_IN_TEMPLATES } from './built-in-templates';
import { renderTemplate } from './render-template';
import { definitionProblems } from './template-definition';
import { invalidArgument, templateNotFound, templateReadOnly } from './template.errors';
import { MAX_TEMPLATES_PER_USER, RenderedTemplate, TemplateFields, TemplateInput, TemplateVariable, TemplateVariableInput, TemplateView } from './template.types';
import { TemplatesRepository } from './templates.repository';

const EDITABLE_FIELDS = ['name', 'contentType', 'prompt', 'variables'] as const;
const BUILT_IN_BY_ID = new Map(BUILT_IN_TEMPLATES.map((template) => [template._id, template]));

/** Prompt templates: the built-in ones (read-only, shared) and each user's own (404 to everyone else). */
@Injectable()
export class TemplatesService {
  constructor(private readonly templates: TemplatesRepository) {}

  /** The built-in templates, then the caller's own oldest first; only one content type when given. */
  async list(userId: string, contentType?: ContentType): Promise<TemplateView[]> {
    const all = [...BUILT_IN_TEMPLATES.map(copyOf), ...(await this.templates.list(userId))];
    return contentType ? all.filter((template) => template.contentType === contentType) : all;
  }

  async get(userId: string, id: string): Promise<TemplateView> {
    const template = await this.find(userId, id);
    if (!template) throw templateNotFound();
    return template;
  }

  /**
   * Every placeholder of `prompt` must be a declared variable and every variable used (400 naming `prompt`
   * or `variables.<index>.name`). At MAX_TEMPLATES_PER_USER the answer is TEMPLATE_LIMIT_REACHED; the count
   * is read before the insert, so two racing creates may end one over the cap (a soft limit on storage).
   */
  async create(userId: string, input: TemplateInput): Promise<TemplateView> {
    const template = { variables: [], ...pickFields(input) } as TemplateFields;
    checkDefinition(template);
    if ((await this.templates.count(userId)) >= MAX_TEMPLATES_PER_USER) {
      throw new DomainError('TEMPLATE_LIMIT_REACHED', `You already have ${MAX_TEMPLATES_PER_USER} templates; delete one first`, { limit: MAX_TEMPLATES_PER_USER });
    }
    return this.templates.create(userId, template);
  }

  /** Changes any of name, contentType, prompt and variables; the template that results is checked as a whole, as on create. */
  async update(userId: string, id: string, changes: Partial<TemplateInput>): Promise<TemplateView> {
    if (BUILT_IN_BY_ID.has(id)) throw templateReadOnly();
    const changed = pickFields(changes ?? {});
    if (Object.keys(changed).length === 0) throw new DomainError('INVALID_ARGUMENT', `Provide at least one of ${EDITABLE_FIELDS.join(', ')}`);
    const current = await this.templates.findOwned(userId, id);
    if (!current) throw templateNotFound();
    const next = { ...pickFields(current), ...changed } as TemplateFields;
    checkDefinition(next);
    const updated = await this.templates.replace(current._id, next);
    if (!updated) throw templateNotFound();
    return updated;
  }

  async remove(userId: string, id: string): Promise<{ id: string }> {
    if (BUILT_IN_BY_ID.has(id)) throw templateReadOnly();
    const owned = await this.templates.findOwned(userId, id);
    if (!owned || !(await this.templates.delete(owned._id))) throw templateNotFound();
    return { id: owned._id };
  }

  /** Command: every template of the user goes (an account's deletion); returns how many. */
  removeAllOf(userId: string): Promise<number> {
    return this.templates.deleteAllOf(userId);
  }

  /**
   * The prompt of template `templateId` (built-in or the caller's own) with `variables` substituted, for
   * POST /generate-content. INVALID_ARGUMENT naming `templateId` when it names no such template (another
   * user's included), or `variables.<name>` for an unknown, missing required, non-string or too long value.
   */
  async render(userId: string, templateId: string, variables: Record<string, string> | undefined): Promise<RenderedTemplate> {
    const template = typeof templateId === 'string' ? await this.find(userId, templateId) : undefined;
    if (!template) throw invalidArgument([{ field: 'templateId', message: 'templateId does not name a built-in template or one of yours' }]);
    return { templateId: template._id, contentType: template.contentType, prompt: renderTemplate(template, variables) };
  }

  private async find(userId: string, id: string): Promise<TemplateView | undefined> {
    const builtIn = BUILT_IN_BY_ID.get(id);
    return builtIn ? copyOf(builtIn) : this.templates.findOwned(userId, id);
  }
}

function checkDefinition(template: TemplateFields): void {
  const problems = definitionProblems(template);
  if (problems.length > 0) throw invalidArgument(problems);
}

/** Only the editable fields (so a DTO or a stored view never carries `_id`, `builtIn` or `userId` into a write). */
function pickFields(fields: Partial<TemplateInput>): Partial<TemplateFields> {
  const picked: Partial<TemplateFields> = {};
  for (const field of EDITABLE_FIELDS) {
    if (fields[field] !== undefined) Object.assign(picked, { [field]: fields[field] });
  }
  if (fields.variables) picked.variables = fields.variables.map(variableOf);
  return picked;
}

/** A variable with only its own keys; `required` left out means required unless a default is given. */
function variableOf({ name, description, required, default: fallback }: TemplateVariableInput): TemplateVariable {
  return {
    name,
    ...(description === undefined ? {} : { description }),
    required: required ?? fallback === undefined,
    ...(fallback === undefined ? {} : { default: fallback }),
  };
}

/** Built-ins are shared module data: callers get a copy they may change. */
function copyOf(template: TemplateView): TemplateView {
  return structuredClone(template);
}
