import { TemplateVariable, VARIABLE_VALUE_MAX_LENGTH } from './template.types';
import { FieldProblem, invalidArgument } from './template.errors';

/** Anything between double braces is a placeholder; `{{ name }}` and `{{name}}` are the same one. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0/C1 controls but tab and newline, and the bidi overrides and isolates that make text read differently than it is.
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
/** The text field of a problem about one variable's value; long or odd keys are cut so the answer stays short. */
const variableField = (name: string) => `variables.${name.slice(0, 60)}`;

/** The trimmed text of each placeholder of `prompt`, once each, in order of first use. */
export function placeholdersOf(prompt: string): string[] {
  return [...new Set([...prompt.matchAll(PLACEHOLDER)].map((match) => match[1].trim()))];
}

/**
 * A value made safe to splice into a prompt: CRLF becomes LF, control and bidi characters go, tabs become
 * spaces, blank-line runs shrink to one, and `{{`/`}}` get a space inside so the result never holds a placeholder.
 */
export function escapeValue(value: string): string {
  return value
    .replace(/\r\n?/g, '\n')
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(INVISIBLE, '')
    .replace(/\t/g, ' ')
    .replace(/[ ]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\{(?=\{)/g, '{ ')
    .replace(/\}(?=\})/g, '} ')
    .trim();
}

/**
 * Fills each `{{name}}` of `prompt` with its value in one pass (inserted text is never scanned again; no
 * template code exists to run). Defaults fill missing or empty optional variables; an optional one with
 * no default becomes empty. Throws INVALID_ARGUMENT naming `variables.<name>` for an unknown variable, a
 * missing required one, a value that is not a string or is longer than VARIABLE_VALUE_MAX_LENGTH, and
 * `variables` itself when it is not an object or the prompt comes out empty.
 */
export function renderTemplate(template: { prompt: string; variables: readonly TemplateVariable[] }, values: unknown): string {
  if (values !== undefined && (typeof values !== 'object' || values === null || Array.isArray(values))) {
    throw invalidArgument([{ field: 'variables', message: 'variables must be an object of strings' }]);
  }
  const declared = new Map(template.variables.map((variable) => [variable.name, variable]));
  const given = new Map<string, string>();
  const problems: FieldProblem[] = [];
  for (const [name, value] of Object.entries(values ?? {})) {
    const field = variableField(name);
    if (!declared.has(name)) problems.push({ field, message: `${field} is not a variable of this template` });
    else if (typeof value !== 'string') problems.push({ field, message: `${field} must be a string` });
    else if (value.length > VARIABLE_VALUE_MAX_LENGTH) problems.push({ field, message: `${field} must be at most ${VARIABLE_VALUE_MAX_LENGTH} characters` });
    else given.set(name, escapeValue(value));
  }

  const resolved = new Map<string, string>();
  for (const variable of template.variables) {
    const value = given.get(variable.name) || escapeValue(variable.default ?? '');
    if (!value && variable.required && !problems.some((problem) => problem.field === variableField(variable.name))) {
      problems.push({ field: variableField(variable.name), message: `${variableField(variable.name)} is required` });
    }
    resolved.set(variable.name, value);
  }
  if (problems.length > 0) throw invalidArgument(problems);

  const prompt = tidy(template.prompt.replace(PLACEHOLDER, (placeholder, name: string) => resolved.get(name.trim()) ?? placeholder));
  if (!prompt) throw invalidArgument([{ field: 'variables', message: 'The rendered prompt is empty: give a value to at least one variable' }]);
  return prompt;
}

/** Where an empty optional value left a line ending in spaces or a run of blank lines, the prompt still reads cleanly. */
function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
