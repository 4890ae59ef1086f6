import { DomainError } from './domain-error';

/** A 400 that names the field, shaped as the validation pipe's: `details: [{ field, errors }]`. */
export function invalidArgument(field: string, problem: string): DomainError {
  return new DomainError('INVALID_ARGUMENT', problem, { details: [{ field, errors: [problem] }] });
}
