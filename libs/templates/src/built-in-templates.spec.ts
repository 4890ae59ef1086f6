import { CONTENT_TYPES } from '@app/common';
import { BUILT_IN_TEMPLATES } from './built-in-templates';
import { placeholdersOf, renderTemplate } from './render-template';
import { definitionProblems } from './template-definition';
import { TEMPLATE_NAME_MAX_LENGTH, TEMPLATE_PROMPT_MAX_LENGTH, VARIABLE_NAME } from './template.types';

const requiredValues = (variables: (typeof BUILT_IN_TEMPLATES)[number]['variables']) =>
  Object.fromEntries(variables.filter((variable) => variable.required).map((variable) => [variable.name, `<${variable.name} value>`]));

describe('BUILT_IN_TEMPLATES', () => {
  it.each(CONTENT_TYPES)('holds at least three templates of type %s', (type) => {
    expect(BUILT_IN_TEMPLATES.filter((template) => template.contentType === type).length).toBeGreaterThanOrEqual(3);
  });

  it('has unique slug ids that can never be ObjectIds, and fits the limits user templates have', () => {
    const ids = BUILT_IN_TEMPLATES.map((template) => template._id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const template of BUILT_IN_TEMPLATES) {
      expect(template._id).toMatch(/^[a-z]+(-[a-z]+)+$/);
      expect(template.builtIn).toBe(true);
      expect(template.name.length).toBeLessThanOrEqual(TEMPLATE_NAME_MAX_LENGTH);
      expect(template.prompt.length).toBeLessThanOrEqual(TEMPLATE_PROMPT_MAX_LENGTH);
    }
  });

  describe.each(BUILT_IN_TEMPLATES.map((template) => [template._id, template] as const))('%s', (_id, template) => {
    it('declares exactly the placeholders its prompt uses, each with a description', () => {
      expect(definitionProblems(template)).toEqual([]);
      expect(placeholdersOf(template.prompt).sort()).toEqual(template.variables.map((variable) => variable.name).sort());
      for (const variable of template.variables) {
        expect(variable.name).toMatch(VARIABLE_NAME);
        expect(variable.description?.length).toBeGreaterThan(10);
      }
    });

    it('gives every optional variable a default, so the prompt reads as instructions when the caller leaves it out', () => {
      for (const variable of template.variables.filter((each) => !each.required)) expect(variable.default).toBeTruthy();
      expect(template.variables.some((variable) => variable.required)).toBe(true);
    });

    it('renders with only its required variables, leaving no placeholder or empty slot', () => {
      const rendered = renderTemplate(template, requiredValues(template.variables));
      expect(rendered).not.toMatch(/\{\{|\}\}/);
      for (const variable of template.variables) {
        expect(rendered).toContain(variable.required ? `<${variable.name} value>` : variable.default);
      }
      expect(rendered).not.toMatch(/: \.|\(\)|""|  /);
    });

    it('refuses a missing required variable and an unknown one', () => {
      const [first] = template.variables.filter((variable) => variable.required);
      expect(() => renderTemplate(template, { ...requiredValues(template.variables), [first.name]: '' })).toThrow(`variables.${first.name} is required`);
      expect(() => renderTemplate(template, { ...requiredValues(template.variables), nope: 'x' })).toThrow('variables.nope');
    });
  });
});
