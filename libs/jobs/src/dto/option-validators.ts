import { ValidateBy, ValidationOptions } from 'class-validator';

const MAX_VARIABLES = 50;
const VARIABLE_MAX_LENGTH = 5000;

/** The canonical form of a BCP 47 language tag (`pt-br` → `pt-BR`), or undefined when it is not one. */
export function canonicalLanguageTag(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 35) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(value);
    return canonical;
  } catch {
    return undefined;
  }
}

/** A well-formed BCP 47 language tag, as Intl understands it. */
export function IsLanguageTag(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isLanguageTag', validator: { validate: (value) => canonicalLanguageTag(value) !== undefined, defaultMessage: () => 'options.language must be a BCP 47 language tag such as en, de-CH or pt-BR' } },
    options,
  );
}

/** A flat object of string values (template variables); their names and lengths are the template's to check. */
export function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (value) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= MAX_VARIABLES &&
          Object.values(value).every((item) => typeof item === 'string' && item.length <= VARIABLE_MAX_LENGTH),
        defaultMessage: () => `variables must be an object of at most ${MAX_VARIABLES} string values`,
      },
    },
    options,
  );
}
