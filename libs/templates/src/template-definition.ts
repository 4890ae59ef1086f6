import { placeholdersOf } from './render-template';
import { FieldProblem } from './template.errors';
import { MAX_VARIABLES, TemplateFields, VARIABLE_NAME, VARIABLE_VALUE_MAX_LENGTH } from './template.types';

/**
 * What is wrong with a template as a whole, beyond each field's shape (the DTOs check that): every
 * placeholder of `prompt` must be a declared variable, and every declared variable must be used (a value
 * given for an unused one would silently go nowhere); names are unique and valid; a required variable
 * has no default. Empty when the template is sound. Built-in templates pass the same checks in their spec.
 */
export function definitionProblems(template: Pick<TemplateFields, 'prompt' | 'variables'>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const names = new Set(template.variables.map((variable) => variable.name));
  const used = new Set(placeholdersOf(template.prompt));
  for (const placeholder of used) {
    if (!names.has(placeholder)) {
      problems.push({ field: 'prompt', message: `prompt uses {{${placeholder.slice(0, 60)}}}, which is not one of the declared variables` });
    }
  }
  if (template.variables.length > MAX_VARIABLES) problems.push({ field: 'variables', message: `variables must hold at most ${MAX_VARIABLES} variables` });

  const seen = new Set<string>();
  template.variables.forEach((variable, index) => {
    const field = `variables.${index}`;
    if (!VARIABLE_NAME.test(variable.name)) {
      problems.push({ field: `${field}.name`, message: `${field}.name must start with a letter and hold at most 40 letters, digits or underscores` });
    } else if (seen.has(variable.name)) {
      problems.push({ field: `${field}.name`, message: `${field}.name: the variable ${variable.name} is declared twice` });
    } else if (!used.has(variable.name)) {
      problems.push({ field: `${field}.name`, message: `${field}.name: the variable ${variable.name} is not used in prompt (add {{${variable.name}}} or remove it)` });
    }
    seen.add(variable.name);
    if (variable.required && variable.default !== undefined) {
      problems.push({ field: `${field}.default`, message: `${field}.default: a required variable takes no default (make it optional instead)` });
    }
    if ((variable.default?.length ?? 0) > VARIABLE_VALUE_MAX_LENGTH) {
      problems.push({ field: `${field}.default`, message: `${field}.default must be at most ${VARIABLE_VALUE_MAX_LENGTH} characters` });
    }
  });
  return problems;
}
