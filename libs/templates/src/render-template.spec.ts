import { DomainError } from '@app/common';
import { escapeValue, placeholdersOf, renderTemplate } from './render-template';
import { TemplateVariable, VARIABLE_VALUE_MAX_LENGTH } from './template.types';

const template = (prompt: string, variables: TemplateVariable[]) => ({ prompt, variables });
const topic: TemplateVariable = { name: 'topic', required: true };
const tone: TemplateVariable = { name: 'tone', required: false, default: 'friendly' };
const notes: TemplateVariable = { name: 'notes', required: false };

/** The fields an INVALID_ARGUMENT names, or fails the test when `render` does not throw one. */
function fieldsOf(render: () => unknown): string[] {
  try {
    render();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('INVALID_ARGUMENT');
    const details = (error as DomainError).details?.details as { field: string; errors: string[] }[];
    for (const detail of details) expect((error as DomainError).message).toContain(detail.errors[0]);
    return details.map((detail) => detail.field);
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe(renderTemplate.name, () => {
  it('substitutes every placeholder, with or without spaces inside the braces', () => {
    const sut = template('Write about {{topic}} in a {{ tone }} tone. Again: {{  topic  }}.', [topic, tone]);
    expect(renderTemplate(sut, { topic: 'tea', tone: 'calm' })).toBe('Write about tea in a calm tone. Again: tea.');
  });

  it('fills a missing or empty optional variable with its default', () => {
    const sut = template('{{topic}}, {{tone}}', [topic, tone]);
    expect(renderTemplate(sut, { topic: 'tea' })).toBe('tea, friendly');
    expect(renderTemplate(sut, { topic: 'tea', tone: '' })).toBe('tea, friendly');
    expect(renderTemplate(sut, { topic: 'tea', tone: '   ' })).toBe('tea, friendly');
  });

  it('renders an optional variable without a default as empty and tidies the lines it leaves', () => {
    const sut = template('About {{topic}}.\n\n{{notes}}\n\nThanks.', [topic, notes]);
    expect(renderTemplate(sut, { topic: 'tea' })).toBe('About tea.\n\nThanks.');
    expect(renderTemplate(template('{{topic}} {{notes}}', [topic, notes]), { topic: 'tea' })).toBe('tea');
  });

  it('accepts no variables at all for a template that needs none', () => {
    expect(renderTemplate(template('A plain prompt', []), undefined)).toBe('A plain prompt');
    expect(renderTemplate(template('Hi {{tone}}', [tone]), undefined)).toBe('Hi friendly');
  });

  it('substitutes in one pass: a value holding a placeholder is never expanded', () => {
    const sut = template('{{topic}} / {{tone}}', [topic, tone]);
    const rendered = renderTemplate(sut, { topic: '{{tone}} and {{ topic }}', tone: 'calm' });
    expect(rendered).toBe('{ {tone} } and { { topic } } / calm');
    expect(placeholdersOf(rendered)).toEqual([]);
  });

  it('leaves no placeholder behind whatever braces a value holds', () => {
    for (const value of ['{{{x}}}', '{{{{', '}}}}', '{{}}', '{ {a}}', 'x{{\n}}y']) {
      expect(renderTemplate(template('[{{topic}}]', [topic]), { topic: value })).not.toMatch(/\{\{|\}\}/);
    }
  });

  it('keeps ordinary text, single braces, unicode and emoji as they are', () => {
    const value = 'Café {brand} — 50% off 👨‍👩‍👧 $& $1';
    expect(renderTemplate(template('>{{topic}}<', [topic]), { topic: value })).toBe(`>${value}<`);
  });

  it('names an unknown variable, also one shaped like an object property', () => {
    expect(fieldsOf(() => renderTemplate(template('{{topic}}', [topic]), { topic: 'a', extra: 'b' }))).toEqual(['variables.extra']);
    expect(fieldsOf(() => renderTemplate(template('{{topic}}', [topic]), JSON.parse('{"topic":"a","__proto__":"x","constructor":"y"}')))).toEqual([
      'variables.__proto__',
      'variables.constructor',
    ]);
  });

  it('names a missing or empty required variable', () => {
    const sut = template('{{topic}} {{tone}}', [topic, tone]);
    expect(fieldsOf(() => renderTemplate(sut, {}))).toEqual(['variables.topic']);
    expect(fieldsOf(() => renderTemplate(sut, undefined))).toEqual(['variables.topic']);
    expect(fieldsOf(() => renderTemplate(sut, { topic: ' \n\t ' }))).toEqual(['variables.topic']);
  });

  it('names every problem at once', () => {
    const sut = template('{{topic}} {{tone}}', [topic, tone]);
    expect(fieldsOf(() => renderTemplate(sut, { tone: 'x'.repeat(VARIABLE_VALUE_MAX_LENGTH + 1), other: 'y' })).sort()).toEqual([
      'variables.other',
      'variables.tone',
      'variables.topic',
    ]);
  });

  it('caps each value', () => {
    const sut = template('{{topic}}', [topic]);
    expect(renderTemplate(sut, { topic: 'x'.repeat(VARIABLE_VALUE_MAX_LENGTH) })).toHaveLength(VARIABLE_VALUE_MAX_LENGTH);
    expect(fieldsOf(() => renderTemplate(sut, { topic: 'x'.repeat(VARIABLE_VALUE_MAX_LENGTH + 1) }))).toEqual(['variables.topic']);
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an array', ['a']],
    ['an object', { $ne: null }],
  ])('names a value that is %s', (_name, value) => {
    expect(fieldsOf(() => renderTemplate(template('{{topic}}', [topic]), { topic: value }))).toEqual(['variables.topic']);
  });

  it.each([['a string', 'topic=tea'], ['an array', ['tea']], ['null', null], ['a number', 1]])('names variables when it is %s', (_name, values) => {
    expect(fieldsOf(() => renderTemplate(template('{{topic}}', [topic]), values))).toEqual(['variables']);
  });

  it('refuses a prompt that renders empty', () => {
    expect(fieldsOf(() => renderTemplate(template('{{notes}}', [notes]), {}))).toEqual(['variables']);
  });

  it('cuts a very long unknown name in the field it reports', () => {
    const [field] = fieldsOf(() => renderTemplate(template('{{topic}}', [topic]), { topic: 'a', ['n'.repeat(5000)]: 'b' }));
    expect(field.length).toBeLessThanOrEqual(80);
  });
});

describe(escapeValue.name, () => {
  it('removes control and bidi-override characters but keeps newlines', () => {
    expect(escapeValue('a\u0000b\u0007c\u001bd\u007fe\u0085f\u202eg\u2066h\uFEFFi')).toBe('abcdefghi');
    expect(escapeValue('line one\nline two')).toBe('line one\nline two');
  });

  it('normalizes line ends, tabs, trailing spaces and runs of blank lines', () => {
    expect(escapeValue('  a\r\nb\rc\t\td   \n\n\n\n\ne  ')).toBe('a\nb\nc  d\n\ne');
  });

  it('replaces a lone surrogate, which is not text', () => {
    expect(escapeValue('a\uD800b\uDC00c')).toBe('a\uFFFDb\uFFFDc');
    expect(escapeValue('😀')).toBe('😀');
  });

  it('splits double braces so no placeholder survives', () => {
    expect(escapeValue('{{a}}')).toBe('{ {a} }');
    expect(escapeValue('{{{')).toBe('{ { {');
    expect(escapeValue('}}}')).toBe('} } }');
  });
});

describe(placeholdersOf.name, () => {
  it('lists each placeholder once, trimmed, in order of first use', () => {
    expect(placeholdersOf('{{b}} {{ a }} {{b}} {{a}} {{ c-d }} {{}} { {x} }')).toEqual(['b', 'a', 'c-d', '']);
  });
});
