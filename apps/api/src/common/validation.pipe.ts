import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, ValidationError } from 'class-validator';

function flatten(errors: ValidationError[], parent = ''): { field: string; errors: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, errors: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const declaredByDto = new WeakMap<object, ReadonlySet<string>>();

/** The properties a DTO class declares (its own and inherited ones), read once from class-validator's metadata. */
function declaredProperties(dto: NonNullable<ArgumentMetadata['metatype']>): ReadonlySet<string> {
  let names = declaredByDto.get(dto);
  if (!names) {
    names = new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false).map((metadata) => metadata.propertyName));
    declaredByDto.set(dto, names);
  }
  return names;
}

function unknownField(property: string): ValidationError {
  return Object.assign(new ValidationError(), { property, children: [], constraints: { whitelistValidation: `property ${property} should not exist` } });
}

/**
 * Nest's pipe silently deletes `__proto__`, `constructor` and `prototype` before validating, and
 * class-validator's whitelist looks names up in a plain object, where `constructor` or
 * `hasOwnProperty` seem declared. Unknown keys are therefore checked here first, against a Set.
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.metatype && this.toValidate(metadata) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const declared = declaredProperties(metadata.metatype);
      const unknown = Object.keys(value).filter((key) => !declared.has(key));
      if (unknown.length > 0) throw await this.exceptionFactory(unknown.map(unknownField));
    }
    return super.transform(value, metadata);
  }
}

/** Unknown fields are refused, types are checked, and the 400 names each wrong field. */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const message = details.map((detail) => detail.errors.join(', ')).join('; ') || 'Invalid request';
      return new BadRequestException({ message, error: 'Bad Request', details });
    },
  });
}
