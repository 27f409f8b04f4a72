import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { addExtensionKeywords } from '../json-schema/extension-keywords';
import type { JsonSchema } from '../json-schema/json-schema';
import { compareCodeUnits, isPlainObject } from '../json/plain-object';
import { schemaHashOf, type ServiceDefinition } from '../registry/service-definition';
import { issuesFromAjv } from './ajv-issues';
import type { ConfigIssue } from './config-issue';
import { normalizeConfig } from './config-normalizer';
import { checkJsonSafety } from './json-safety';

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** Accept (and return) secret fields: only for the worker, after it opened the sealed secrets. */
  readonly allowSecrets?: boolean;
}

/** Either the normalized configuration or every problem found, each at its field path. */
export type ConfigValidationResult =
  | { readonly ok: true; readonly config: Record<string, unknown> }
  | { readonly ok: false; readonly issues: ConfigIssue[] };

/** The part of a service definition that validation needs. */
export type ConfigSchemaSource = Pick<
  ServiceDefinition,
  'name' | 'jsonSchema' | 'schemaHash' | 'secretPaths'
>;

// Compiled validators by the hash of the schema they were compiled from: compiling is the
// costly part, and a schema rarely changes. The key is recomputed from the schema itself, never
// taken from the caller's `schemaHash`, so a changed schema never meets a stale validator.
const MAX_COMPILED = 64;
const compiled = new Map<string, ValidateFunction>();
// A frozen schema object cannot change: its validator is found by identity, without hashing.
const byFrozenSchema = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * Validates a configuration document against a service's JSON Schema with Ajv (draft 2020-12
 * and the contract's `x-` keywords), the one validation engine of the manager and the SDK.
 * Omitted fields take their defaults, and the result is normalized (see normalizeConfig).
 * Before the schema, the document must be a JSON object, free of forbidden keys, absurd nesting
 * and lone surrogates, and (unless `allowSecrets`) carry no secret. Never throws on bad input.
 */
export function validateConfig(
  definition: ConfigSchemaSource,
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
  const allowSecrets = options.allowSecrets ?? false;
  const secretIssues = allowSecrets ? [] : secretsIn(definition, input);
  const config = normalizeConfig(definition.jsonSchema, input, allowSecrets) as Record<
    string,
    unknown
  >;
  const validate = validatorFor(definition);
  const issues = validate(config) ? [] : issuesFromAjv(validate.errors ?? [], config);
  if (secretIssues.length + issues.length > 0) {
    const all = [...secretIssues, ...issues].sort((a, b) => compareCodeUnits(a.path, b.path));
    return { ok: false, issues: all };
  }
  return { ok: true, config };
}

/** The service's default configuration as plain JSON, without secrets. */
export function defaultConfig(
  definition: Pick<ServiceDefinition, 'jsonSchema'>,
): Record<string, unknown> {
  return normalizeConfig(definition.jsonSchema, {}, false) as Record<string, unknown>;
}

/**
 * The compiled Ajv validator of a schema, compiled once per schema content: cached by the hash
 * of `jsonSchema` (computed here, not the definition's `schemaHash`), and for a frozen schema
 * object (every ServiceDefinition's) found by identity first, so the message path never hashes
 * nor compiles.
 */
export function validatorFor(
  definition: Pick<ServiceDefinition, 'jsonSchema' | 'schemaHash'>,
): ValidateFunction {
  const schema = definition.jsonSchema;
  const frozen = Object.isFrozen(schema);
  if (frozen) {
    const known = byFrozenSchema.get(schema);
    if (known !== undefined) return known;
  }
  const hash = schemaHashOf(schema);
  let validate = compiled.get(hash);
  if (validate === undefined) {
    validate = compileSchema(schema);
    if (compiled.size >= MAX_COMPILED) {
      const oldest = compiled.keys().next().value;
      if (oldest !== undefined) compiled.delete(oldest);
    }
    compiled.set(hash, validate);
  }
  if (frozen) byFrozenSchema.set(schema, validate);
  return validate;
}

/**
 * Compiles a configuration schema with the engine's options; throws Ajv's error for a schema it
 * cannot compile (registration checks schemas with this before accepting them).
 */
export function compileSchema(jsonSchema: JsonSchema): ValidateFunction {
  const schema: Record<string, unknown> = { ...jsonSchema };
  delete schema.$id;
  return newEngine({ checkAgainstMetaSchema: false }).compile(schema);
}

/**
 * Where a schema breaks the JSON Schema meta-schema (and the extension keywords' own rules), at
 * dotted paths into the document under `root` (`schema.properties.a.type`); empty when it is a
 * well-formed schema.
 */
export function metaSchemaProblems(jsonSchema: JsonSchema, root = 'schema'): ConfigIssue[] {
  // One engine for every check: validating against the meta-schema adds nothing to its cache.
  metaEngine ??= newEngine({ checkAgainstMetaSchema: true });
  const ajv = metaEngine;
  if (ajv.validateSchema(jsonSchema) === true) return [];
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of ajv.errors ?? []) {
    const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
    const path = [root, ...segments].join('.');
    const message = `${path} ${error.message ?? 'is invalid'}`;
    if (seen.has(message)) continue;
    seen.add(message);
    issues.push({ path, message });
  }
  return issues;
}

let metaEngine: Ajv2020 | undefined;

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `multipleOf` tolerance, as a power of ten: |round(x / m) − x / m| ≤ 1e-9 (docs/protocol.md). */
export const MULTIPLE_OF_PRECISION = 9;

/**
 * An Ajv engine with the contract's options. `checkAgainstMetaSchema` is for the one engine that
 * checks schemas (metaSchemaProblems). The engines that compile do not check again: every schema
 * they get was checked when it was registered (service-schema.ts does that before it compiles),
 * or is a service definition built into the code, or came signed by the manager that checked it.
 * Checking would compile the draft 2020-12 meta-schema in each engine, which is most of what a
 * worker spends compiling its schema before it is ready (docs/performance.md). Ajv still refuses,
 * while compiling, a keyword whose value has the wrong type.
 */
function newEngine({ checkAgainstMetaSchema }: { checkAgainstMetaSchema: boolean }): Ajv2020 {
  // Its own instance per schema: `$id`s of different services (or of two versions of one) never
  // collide in one Ajv cache, and a schema evicted from the cache above is garbage collected.
  return addExtensionKeywords(
    new Ajv2020({
      validateSchema: checkAgainstMetaSchema,
      allErrors: true,
      strict: true,
      // Registered schemas may leave `type` implicit beside range keywords, as JSON Schema allows.
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      allowUnionTypes: true,
      unicodeRegExp: true,
      // x is a multiple of m when x / m is within 1e-9 of an integer: in plain doubles
      // 0.07 / 0.01 is 7.000000000000001, and `multipleOf: 0.01` would refuse 0.07.
      multipleOfPrecision: MULTIPLE_OF_PRECISION,
      verbose: true,
      // Ajv's optimisation pass over the generated code gains nothing measurable when validating
      // but doubles the compile time, which a worker pays before it is ready (and a manager per
      // service at start).
      code: { optimize: false },
    }),
    { checkValues: checkAgainstMetaSchema },
  );
}

// A secret in the plain configuration is named with where it belongs; its value is never echoed.
function secretsIn(definition: ConfigSchemaSource, input: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const path of definition.secretPaths) {
    if (valueAt(input, path) !== undefined) {
      issues.push({
        path,
        message: `${path} is a secret: set it with PUT /api/services/${definition.name}/secrets/${path}`,
      });
    }
  }
  return issues;
}

function valueAt(object: unknown, path: string): unknown {
  let current = object;
  for (const key of path.split('.')) {
    if (!isPlainObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
