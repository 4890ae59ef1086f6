import { plainToInstance } from 'class-transformer';
import { IsInt, Max, Min, validateSync, ValidationError } from 'class-validator';

/** A configuration value is missing or wrong; the message is one line that names the variable. */
export class ConfigValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigValidationError';
  }
}

type EnvClass<T> = new () => T;

/**
 * Validates the variables one config class declares and returns them converted to their types.
 * Empty strings count as unset, so `PORT=` in a .env file falls back to the default.
 */
export function validateEnv<T extends object>(schema: EnvClass<T>, env: NodeJS.ProcessEnv = process.env): T {
  const defaults = new schema() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    raw[key] = value === undefined || value.trim() === '' ? defaults[key] : value.trim();
  }
  const typed = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, asTypeOfDefault(value, defaults[key])]));
  const instance = plainToInstance(schema, typed);
  const errors = validateSync(instance, { skipMissingProperties: false, forbidUnknownValues: false });
  if (errors.length > 0) throw new ConfigValidationError(describe(errors[0], raw));
  return instance;
}

/** Numeric variables are converted when they look like numbers; anything else stays a string for validation to refuse. */
function asTypeOfDefault(value: unknown, fallback: unknown): unknown {
  if (typeof fallback === 'number' && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

function describe(error: ValidationError, raw: Record<string, unknown>): string {
  const value = raw[error.property];
  const got = value === undefined ? 'it is not set' : `got ${JSON.stringify(value)}`;
  const rule = Object.values(error.constraints ?? {})[0] ?? 'is invalid';
  return `Invalid configuration: ${rule} (${got})`;
}

/** Reads the first variable that is set, so old names keep working beside the new ones. */
export function firstSet(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** An integer variable within bounds, with a message that names it. */
export function IntVar(name: string, min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  const range = { message: `${name} must be an integer between ${min} and ${max}` };
  return (target, key) => {
    IsInt(range)(target, key);
    Min(min, range)(target, key);
    Max(max, range)(target, key);
  };
}
