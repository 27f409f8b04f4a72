import type { ErrorObject } from 'ajv';
import type { InvariantSum } from '../schema/config-field.decorators';
import { sumOfNumbers } from '../schema/cross-field.validators';
import { compareCodeUnits, joinPath } from '../json/plain-object';
import type { ConfigIssue } from './config-issue';

/**
 * Ajv's errors as the issues the API and the SDK report: one per problem, at its dotted path
 * (`scoring.date`), phrased as the class-validator era phrased them (`must not be greater than
 * 1`), without the noise of the failed branches of a nullable object, of range rules on a value
 * of the wrong type, or of a sum over fields that are themselves invalid. `data` is the
 * validated document, to quote sums and sizes. Values are never quoted, only limits.
 */
export function issuesFromAjv(errors: readonly ErrorObject[], data: unknown): ConfigIssue[] {
  const located = errors
    // The wrappers repeat what the errors of their branches or key rules already say.
    .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if' && e.keyword !== 'propertyNames')
    .map((error) => ({ error, path: pathOf(error) }));
  const within = (path: string, ancestor: string) =>
    ancestor === '' ? path !== '' : path.startsWith(`${ancestor}.`);
  // Errors about a value's content mean it had the right container type for some branch.
  const hasContentErrors = (path: string) =>
    located.some(
      (other) =>
        within(other.path, path) || (other.path === path && other.error.keyword !== 'type'),
    );

  const issues: ConfigIssue[] = [];
  const typesAt = new Map<string, Set<string>>();
  for (const { error, path } of located) {
    if (error.keyword !== 'type') continue;
    // A nullable object's other branch ("must be null") when the value is an object with errors.
    if (hasContentErrors(path)) continue;
    const types = typesAt.get(path) ?? new Set<string>();
    for (const type of expectedTypes(error)) types.add(type);
    typesAt.set(path, types);
  }
  for (const [path, types] of typesAt) {
    issues.push({ path, message: `${label(path)} ${typeMessage([...types])}` });
  }
  for (const { error, path } of located) {
    if (error.keyword === 'type' || typesAt.has(path)) continue;
    // A sum over fields that are themselves invalid would only add noise.
    if (error.keyword === 'x-sum' && located.some((other) => within(other.path, path))) continue;
    const isKey =
      typeof (error as ErrorObject & { propertyName?: unknown }).propertyName === 'string';
    const text = message(error, data, path);
    issues.push({
      path,
      message: `${label(path)} ${isKey ? `is not an allowed key: it ${text}` : text}`,
    });
  }
  return dedupe(issues).sort(
    (a, b) => compareCodeUnits(a.path, b.path) || compareCodeUnits(a.message, b.message),
  );
}

/** The dotted path an error is about; an unknown or missing property is named itself. */
function pathOf(error: ErrorObject): string {
  const base = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const params = error.params as Record<string, unknown>;
  // An error of a propertyNames rule is about the key itself.
  const key = (error as ErrorObject & { propertyName?: unknown }).propertyName;
  if (typeof key === 'string') return joinPath(base, key);
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return joinPath(base, params.additionalProperty);
  }
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return joinPath(base, params.missingProperty);
  }
  return base;
}

function message(error: ErrorObject, data: unknown, path: string): string {
  const value = valueAt(data, path);
  const params = error.params as Record<string, unknown>;
  const schema: unknown = error.schema;
  switch (error.keyword) {
    case 'minimum':
      return `must not be less than ${String(params.limit)}`;
    case 'maximum':
      return `must not be greater than ${String(params.limit)}`;
    case 'exclusiveMinimum':
      return params.limit === 0
        ? 'must be a positive number'
        : `must be greater than ${String(params.limit)}`;
    case 'exclusiveMaximum':
      return params.limit === 0
        ? 'must be a negative number'
        : `must be less than ${String(params.limit)}`;
    case 'multipleOf':
      return `must be a multiple of ${String(params.multipleOf)}`;
    case 'minLength':
      return params.limit === 1
        ? 'must not be empty'
        : `must be longer than or equal to ${String(params.limit)} characters`;
    case 'maxLength':
      return `must be shorter than or equal to ${String(params.limit)} characters`;
    case 'pattern':
      return `must match the pattern ${String(params.pattern)}`;
    case 'enum':
      return `must be one of the following values: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'minItems':
      return `must contain at least ${String(params.limit)} elements`;
    case 'maxItems':
      return `must contain no more than ${String(params.limit)} elements`;
    case 'uniqueItems':
      return 'must not contain duplicate elements';
    case 'minProperties':
      return `must have at least ${String(params.limit)} entries`;
    case 'maxProperties':
      return `must have at most ${String(params.limit)} entries (got ${countOf(value)})`;
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is an unknown field';
    case 'x-sum': {
      const sum = schema as InvariantSum;
      const total = typeof value === 'object' && value !== null ? sumOfNumbers(value) : Number.NaN;
      return `must sum to ${sum.equals} (got ${formatNumber(total)})`;
    }
    case 'x-not-greater-than':
    case 'x-not-less-than':
      return comparison(error, data, path);
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

function comparison(error: ErrorObject, data: unknown, path: string): string {
  const other = String(error.schema);
  const word = error.keyword === 'x-not-greater-than' ? 'less' : 'greater';
  const segments = path.split('.');
  const property = segments.pop() ?? '';
  const sibling = valueAt(data, [...segments, other].join('.'));
  return `must be ${word} than or equal to ${other} (got ${property} ${String(valueAt(data, path))}, ${other} ${String(sibling)})`;
}

function expectedTypes(error: ErrorObject): string[] {
  const type = (error.params as { type?: unknown }).type;
  if (Array.isArray(type)) return type.map(String);
  return typeof type === 'string' ? type.split(',') : [];
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a finite number',
  integer: 'an integer number',
  boolean: 'a boolean value',
  string: 'a string',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeMessage(types: string[]): string {
  // `integer` says more than `number` when both are allowed.
  const words = types.map((type) => TYPE_WORDS[type] ?? type);
  if (words.length === 1) {
    return words[0] === TYPE_WORDS.integer
      ? 'must be an integer number'
      : words[0] === TYPE_WORDS.boolean
        ? 'must be a boolean value'
        : `must be ${words[0]}`;
  }
  return `must be ${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function label(path: string): string {
  return path === '' ? 'configuration' : path;
}

function valueAt(data: unknown, path: string): unknown {
  if (path === '') return data;
  let current = data;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function countOf(value: unknown): number {
  return typeof value === 'object' && value !== null ? Object.keys(value).length : 0;
}

// Hides float noise (1.0500000000000003) without hiding a real difference.
function formatNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\0${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
