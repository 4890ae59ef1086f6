import { DomainError } from '@app/common';

/** One wrong field of a request: `templateId`, `prompt`, `variables.<name>`, `variables.<index>.name`... */
export interface FieldProblem {
  field: string;
  message: string;
}

/** A 400 naming each field, in the shape the validation pipe gives: `details: [{ field, errors }]`. */
export function invalidArgument(problems: FieldProblem[]): DomainError {
  const details = problems.map(({ field, message }) => ({ field, errors: [message] }));
  return new DomainError('INVALID_ARGUMENT', problems.map((problem) => problem.message).join('; '), { details });
}

export function templateNotFound(): DomainError {
  return new DomainError('TEMPLATE_NOT_FOUND', 'Template not found');
}

export function templateReadOnly(): DomainError {
  return new DomainError('TEMPLATE_READ_ONLY', 'Built-in templates cannot be changed or deleted; create your own instead');
}
