import {
  IS_ARRAY,
  IS_BOOLEAN,
  IS_IN,
  IS_INT,
  IS_NUMBER,
  IS_OBJECT,
  IS_STRING,
  type ValidationError,
  type ValidatorOptions,
  validateSync,
} from 'class-validator';
import { compareCodeUnits, isPlainObject, joinPath } from '../json/plain-object';
import type { ConfigClass } from '../schema/config-field.decorators';
import {
  type ConfigField,
  type ConfigShape,
  configShape,
  MAP_KEY_PATTERN,
  plainDefaults,
  toPlainConfig,
} from '../schema/config-shape';
import type { ConfigIssue } from './config-issue';
import type { ConfigValidationResult, ValidateConfigOptions } from './validate-config';
import { checkJsonSafety } from './json-safety';

/** The part of a service definition that the class-validator check needs: its typed source. */
export type ConfigClassSource = { readonly name: string; readonly schema: ConfigClass };

// value/target: false keep input values (secrets included) out of class-validator's errors.
const VALIDATOR_OPTIONS: ValidatorOptions = {
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

// When the type is wrong, range messages about the same value are noise.
const TYPE_CONSTRAINTS: ReadonlySet<string> = new Set([
  IS_NUMBER,
  IS_INT,
  IS_BOOLEAN,
  IS_STRING,
  IS_ARRAY,
  IS_OBJECT,
  IS_IN,
]);

interface BuiltObject {
  readonly instance: object;
  readonly shape: ConfigShape;
  readonly path: string;
}

interface BuildContext {
  readonly service: string;
  readonly allowSecrets: boolean;
  readonly issues: ConfigIssue[];
  readonly built: BuiltObject[];
  readonly mapEntries: BuiltObject[];
}

/**
 * The class-validator check of a service whose schema is a configuration class (dedup-worker's
 * MatchingConfig): the classes' own reading of a document. It is not what the manager and the
 * SDK run (that is {@link validateConfig}, Ajv on the JSON Schema generated from the classes);
 * it stays so that a property test can prove the typed source and the published schema agree.
 */
export function validateWithClasses(
  definition: ConfigClassSource,
  input: unknown,
  options: ValidateConfigOptions = {},
): ConfigValidationResult {
  if (!isPlainObject(input)) {
    return { ok: false, issues: [{ path: '', message: 'configuration must be a JSON object' }] };
  }
  const unsafe = checkJsonSafety(input);
  if (unsafe.length > 0) {
    return { ok: false, issues: unsafe };
  }
  const context: BuildContext = {
    service: definition.name,
    allowSecrets: options.allowSecrets ?? false,
    issues: [],
    built: [],
    mapEntries: [],
  };
  const rootShape = configShape(definition.schema);
  const root = build(rootShape, input, '', context);

  collectErrors(validateSync(root, VALIDATOR_OPTIONS), '', context.issues);
  for (const entry of context.mapEntries) {
    collectErrors(validateSync(entry.instance, VALIDATOR_OPTIONS), entry.path, context.issues);
  }
  checkInvariants(context);

  if (context.issues.length > 0) {
    const issues = [...context.issues].sort((a, b) => compareCodeUnits(a.path, b.path));
    return { ok: false, issues };
  }
  return { ok: true, config: toPlainConfig(root, rootShape.type, context.allowSecrets) };
}

/** The defaults of a configuration class as plain JSON, without secrets. */
export function classDefaults(definition: {
  readonly schema: ConfigClass;
}): Record<string, unknown> {
  return plainDefaults(definition.schema);
}

// Copies the input onto a fresh instance (so defaults fill the gaps), recording structural problems as it goes.
function build(
  shape: ConfigShape,
  raw: Readonly<Record<string, unknown>>,
  path: string,
  context: BuildContext,
): object {
  const instance = new shape.type() as Record<string, unknown>;
  for (const field of shape.fields) {
    if (field.secret) {
      // A secret's default is "not set": it appears in the output only when the input carries it.
      delete instance[field.name];
    } else if (field.kind === 'nested' && raw[field.name] === undefined) {
      const fallback = instance[field.name];
      if (typeof fallback === 'object' && fallback !== null) {
        // Defaults take the same road as input, so nested secrets are dropped and rules are checked.
        const plain = toPlainConfig(fallback, field.type, false);
        instance[field.name] = build(
          configShape(field.type),
          plain,
          joinPath(path, field.name),
          context,
        );
      }
    }
  }
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (value === undefined) {
      continue;
    }
    const fieldPath = joinPath(path, key);
    const field = shape.fieldsByName.get(key);
    if (field === undefined) {
      context.issues.push({ path: fieldPath, message: `${fieldPath} is an unknown field` });
    } else if (field.secret && !context.allowSecrets) {
      context.issues.push({
        path: fieldPath,
        // The value itself is never part of the message.
        message: `${fieldPath} is a secret: set it with PUT /api/services/${context.service}/secrets/${fieldPath}`,
      });
    } else {
      const converted = buildField(field, value, fieldPath, context);
      if (converted.ok) {
        instance[key] = converted.value;
      }
    }
  }
  context.built.push({ instance, shape, path });
  return instance;
}

function buildField(
  field: ConfigField,
  value: unknown,
  path: string,
  context: BuildContext,
): { ok: true; value: unknown } | { ok: false } {
  switch (field.kind) {
    case 'value':
      return { ok: true, value };
    case 'nested':
      if (value === null && field.nullable) {
        return { ok: true, value: null };
      }
      if (isPlainObject(value)) {
        return { ok: true, value: build(configShape(field.type), value, path, context) };
      }
      context.issues.push({
        path,
        message: `${path} must be an object${field.nullable ? ' or null' : ''}`,
      });
      return { ok: false };
    case 'map':
      return buildMap(field, value, path, context);
  }
}

function buildMap(
  field: Extract<ConfigField, { kind: 'map' }>,
  value: unknown,
  path: string,
  context: BuildContext,
): { ok: true; value: unknown } | { ok: false } {
  if (!isPlainObject(value)) {
    context.issues.push({ path, message: `${path} must be an object` });
    return { ok: false };
  }
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  if (keys.length > field.maxEntries) {
    context.issues.push({
      path,
      message: `${path} must have at most ${field.maxEntries} entries (got ${keys.length})`,
    });
    return { ok: false };
  }
  const entryShape = configShape(field.type);
  const entries: Record<string, unknown> = {};
  for (const key of keys) {
    const entryPath = joinPath(path, key);
    const entry = value[key];
    if (!MAP_KEY_PATTERN.test(key)) {
      context.issues.push({
        path: entryPath,
        message: `${entryPath} has an invalid key: keys are 1 to 100 characters without "."`,
      });
    } else if (!isPlainObject(entry)) {
      context.issues.push({ path: entryPath, message: `${entryPath} must be an object` });
    } else {
      const instance = build(entryShape, entry, entryPath, context);
      context.mapEntries.push({ instance, shape: entryShape, path: entryPath });
      entries[key] = instance;
    }
  }
  return { ok: true, value: entries };
}

function collectErrors(
  errors: readonly ValidationError[],
  parentPath: string,
  issues: ConfigIssue[],
): void {
  for (const error of errors) {
    const path = joinPath(parentPath, error.property);
    const constraints = Object.entries(error.constraints ?? {});
    const typeErrors = constraints.filter(([name]) => TYPE_CONSTRAINTS.has(name));
    for (const [, message] of typeErrors.length > 0 ? typeErrors.slice(0, 1) : constraints) {
      issues.push({ path, message: withPath(message, error.property, path) });
    }
    if (error.children !== undefined && error.children.length > 0) {
      collectErrors(error.children, path, issues);
    }
  }
}

// class-validator names only the property ("date must …"); callers need the full path ("scoring.date must …").
function withPath(message: string, property: string, path: string): string {
  if (message.startsWith(`${property} `)) {
    return `${path}${message.slice(property.length)}`;
  }
  return `${path}: ${message}`;
}

function checkInvariants(context: BuildContext): void {
  // Only objects whose own fields are all valid: a sum of strings would only add noise.
  const invalidPaths = context.issues.map((issue) => issue.path);
  for (const { instance, shape, path } of context.built) {
    if (shape.invariants.length === 0 || invalidPaths.some((invalid) => isWithin(invalid, path))) {
      continue;
    }
    for (const invariant of shape.invariants) {
      const problem = invariant.check(instance);
      if (problem !== undefined) {
        context.issues.push({
          path,
          message: `${path === '' ? 'configuration' : path} ${problem}`,
        });
      }
    }
  }
}

function isWithin(path: string, ancestor: string): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}.`);
}
