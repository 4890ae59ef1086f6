import { definitionProblems } from './template-definition';
import { MAX_VARIABLES, TemplateVariable } from './template.types';

const fields = (prompt: string, variables: TemplateVariable[]) => definitionProblems({ prompt, variables }).map((problem) => problem.field);

describe(definitionProblems.name, () => {
  it('accepts a template whose placeholders and variables match', () => {
    expect(fields('Write about {{topic}} for {{ audience }}.', [
      { name: 'topic', required: true },
      { name: 'audience', required: false, default: 'everyone' },
    ])).toEqual([]);
    expect(fields('No placeholders at all', [])).toEqual([]);
  });

  it('names prompt for a placeholder that is not a declared variable', () => {
    expect(fields('{{topic}} {{missing}}', [{ name: 'topic', required: true }])).toEqual(['prompt']);
    expect(fields('{{not a name}} {{}}', [])).toEqual(['prompt', 'prompt']);
    expect(fields('{{Topic}}', [{ name: 'topic', required: true }])).toEqual(['prompt', 'variables.0.name']);
  });

  it('names a declared variable the prompt never uses', () => {
    expect(fields('{{a}}', [{ name: 'a', required: true }, { name: 'unused', required: false }])).toEqual(['variables.1.name']);
  });

  it('names a duplicate or malformed name', () => {
    expect(fields('{{a}}', [{ name: 'a', required: true }, { name: 'a', required: false }])).toEqual(['variables.1.name']);
    expect(fields('{{a}}', [{ name: 'a', required: true }, { name: '1a', required: false }])).toEqual(['variables.1.name']);
  });

  it('names the default of a required variable', () => {
    expect(fields('{{a}}', [{ name: 'a', required: true, default: 'x' }])).toEqual(['variables.0.default']);
  });

  it('refuses more than the maximum number of variables', () => {
    const variables = Array.from({ length: MAX_VARIABLES + 1 }, (_, index) => ({ name: `v${index}`, required: false }));
    expect(fields(variables.map((variable) => `{{${variable.name}}}`).join(' '), variables)).toEqual(['variables']);
  });
});
