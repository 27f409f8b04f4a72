import { canonicalJson } from '../json/canonical-json';
import { FORBIDDEN_KEYS, isPlainObject } from '../json/plain-object';
import type { JsonSchema } from '../json-schema/json-schema';
import type { ConfigIssue } from '../validation/config-issue';
import { hasLoneSurrogate } from '../validation/json-safety';
import {
  defaultConfig,
  metaSchemaProblems,
  validateConfig,
  validatorFor,
} from '../validation/validate-config';
import { definitionOf, type ServiceDefinition } from './service-definition';

/**
 * Largest schema a service may have, as canonical JSON: its signed envelope on
 * system/schema/<service> (base64, ×4/3, plus the envelope) must stay under the 256 KiB every
 * worker accepts (rule 0).
 */
export const MAX_SCHEMA_BYTES = 160 * 1024;

/** The JSON Schema dialect of configuration schemas. */
export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Keywords a configuration schema may use (draft 2020-12, a subset, plus the contract's own). */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  // identity and annotations
  '$schema',
  '$id',
  '$defs',
  '$ref',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  // any type
  'type',
  'enum',
  'const',
  'anyOf',
  // numbers
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  // strings
  'minLength',
  'maxLength',
  'pattern',
  // arrays
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  // objects
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  // the contract's extension keywords
  'x-sum',
  'x-not-greater-than',
  'x-not-less-than',
  'x-secret',
]);

/** Keywords whose value is a schema, or a map or list of schemas, to check in turn. */
const SCHEMA_VALUED = new Set(['items', 'additionalProperties', 'propertyNames']);
const SCHEMA_MAPS = new Set(['properties', '$defs']);
const SCHEMA_LISTS = new Set(['anyOf']);
const PROPERTY_NAME = /^[^.]{1,100}$/u;
const MAX_SCHEMA_DEPTH = 32;

/** The problems of a schema (at dotted paths into the schema document), or a definition. */
export type SchemaCheck =
  | { readonly ok: true; readonly definition: ServiceDefinition }
  | { readonly ok: false; readonly tooLarge: boolean; readonly problems: ConfigIssue[] };

/**
 * Checks a service's configuration schema as the registration API receives it and derives its
 * definition: a JSON object of at most MAX_SCHEMA_BYTES, draft 2020-12, only SUPPORTED_KEYWORDS
 * (unknown ones are named, e.g. `format` or a remote `$ref`), an object at the root, property
 * names usable as dotted paths, secrets (`writeOnly: true`) only on strings reached through
 * objects and never required, `x-` keywords where they make sense, a schema Ajv compiles, and
 * defaults that satisfy the schema itself (they make version 1).
 */
export function checkServiceSchema(
  service: string,
  description: string,
  document: unknown,
): SchemaCheck {
  const problems: ConfigIssue[] = [];
  const fail = (tooLarge = false): SchemaCheck => ({ ok: false, tooLarge, problems });
  if (!isPlainObject(document)) {
    problems.push({ path: 'schema', message: 'schema must be a JSON object (a JSON Schema)' });
    return fail();
  }
  const bytes = Buffer.byteLength(canonicalJson(document), 'utf8');
  if (bytes > MAX_SCHEMA_BYTES) {
    problems.push({
      path: 'schema',
      message: `schema is ${bytes} bytes as canonical JSON, more than the limit of ${MAX_SCHEMA_BYTES}`,
    });
    return fail(true);
  }
  const root = document as JsonSchema;
  if (root.$schema !== undefined && root.$schema !== SCHEMA_DIALECT) {
    problems.push({
      path: 'schema.$schema',
      message: `schema.$schema must be ${SCHEMA_DIALECT} (draft 2020-12) when given`,
    });
  }
  if (root.type !== 'object' || !isPlainObject(root.properties)) {
    problems.push({
      path: 'schema',
      message: 'schema must describe an object: type "object" with properties',
    });
  }
  new StructureCheck(root, problems).schema(root, 'schema', { inList: false, depth: 0 });
  if (problems.length > 0) return fail();

  problems.push(...metaSchemaProblems(root));
  if (problems.length > 0) return fail();
  const definition = definitionOf({ name: service, description, jsonSchema: root });
  try {
    // Compiled once and kept by hash: checking the defaults below, and every later validation
    // under this schema, reuse it.
    validatorFor(definition);
  } catch (error) {
    problems.push({ path: 'schema', message: `schema does not compile: ${messageOf(error)}` });
    return fail();
  }
  const defaults = validateConfig(definition, defaultConfig(definition));
  if (!defaults.ok) {
    for (const issue of defaults.issues) {
      problems.push({
        path: `default.${issue.path}`,
        message: `the defaults do not satisfy the schema: ${issue.message}`,
      });
    }
    return fail();
  }
  return { ok: true, definition };
}

interface Place {
  /** Inside an array's items or a map's entries: no secret may live there. */
  readonly inList: boolean;
  readonly depth: number;
}

class StructureCheck {
  constructor(
    private readonly root: JsonSchema,
    private readonly problems: ConfigIssue[],
  ) {}

  schema(value: unknown, path: string, place: Place): void {
    if (typeof value === 'boolean') return;
    if (!isPlainObject(value)) {
      this.problem(path, 'must be a schema (a JSON object)');
      return;
    }
    if (place.depth > MAX_SCHEMA_DEPTH) {
      this.problem(path, `is nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
      return;
    }
    const schema = value as JsonSchema & Record<string, unknown>;
    for (const keyword of Object.keys(schema)) {
      if (!SUPPORTED_KEYWORDS.has(keyword)) {
        this.problem(`${path}.${keyword}`, `uses the unsupported keyword "${keyword}"`);
      }
    }
    if (typeof schema.$ref === 'string') this.reference(schema.$ref, `${path}.$ref`);
    for (const keyword of SCHEMA_VALUED) {
      if (schema[keyword] !== undefined) {
        const inList = place.inList || keyword !== 'propertyNames';
        this.schema(schema[keyword], `${path}.${keyword}`, { inList, depth: place.depth + 1 });
      }
    }
    for (const keyword of SCHEMA_LISTS) {
      const list = schema[keyword];
      if (list === undefined) continue;
      if (!Array.isArray(list)) this.problem(`${path}.${keyword}`, 'must be a list of schemas');
      else
        list.forEach((child: unknown, i) =>
          this.schema(child, `${path}.${keyword}.${i}`, { ...place, depth: place.depth + 1 }),
        );
    }
    for (const keyword of SCHEMA_MAPS) {
      const map = schema[keyword];
      if (map === undefined) continue;
      if (!isPlainObject(map)) {
        this.problem(`${path}.${keyword}`, 'must be an object of schemas');
        continue;
      }
      for (const [name, child] of Object.entries(map)) {
        if (keyword === 'properties') this.propertyName(name, `${path}.properties`);
        this.schema(child, `${path}.${keyword}.${name}`, { ...place, depth: place.depth + 1 });
      }
    }
    this.secret(schema, path, place);
    this.extensions(schema, path);
  }

  private reference(ref: string, path: string): void {
    const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const defs = this.root.$defs;
    if (match === null) {
      this.problem(path, `"${ref}" is not supported: only local references like #/$defs/Name`);
    } else if (defs === undefined || !Object.hasOwn(defs, match[1])) {
      this.problem(path, `"${ref}" points at nothing in $defs`);
    }
  }

  private propertyName(name: string, path: string): void {
    if (!PROPERTY_NAME.test(name) || FORBIDDEN_KEYS.has(name) || hasLoneSurrogate(name)) {
      this.problem(
        path,
        `has the property name ${JSON.stringify(name)}: names are 1 to 100 characters without "." and not __proto__, constructor or prototype`,
      );
    }
  }

  private secret(schema: JsonSchema & Record<string, unknown>, path: string, place: Place): void {
    if (schema.writeOnly !== true && schema['x-secret'] !== true) return;
    if (schema.type !== 'string') {
      this.problem(path, 'is a secret (writeOnly) but not of type "string": secrets are strings');
    }
    if (place.inList) {
      this.problem(path, 'is a secret inside an array or map: secrets live at fixed paths');
    }
    if (schema.writeOnly !== true) this.problem(path, 'has x-secret without writeOnly: true');
    // The schema is published in clear on system/schema/<service>: no secret value may sit in it.
    for (const keyword of ['default', 'examples', 'const', 'enum']) {
      const allowed = keyword === 'default' && schema.default === '';
      if (schema[keyword] !== undefined && !allowed) {
        this.problem(
          `${path}.${keyword}`,
          'is not allowed on a secret: the schema is published in clear, secrets are set through their endpoint',
        );
      }
    }
  }

  private extensions(schema: JsonSchema & Record<string, unknown>, path: string): void {
    const sum = schema['x-sum'];
    if (sum !== undefined) {
      const valid =
        isPlainObject(sum) &&
        typeof sum.equals === 'number' &&
        typeof sum.tolerance === 'number' &&
        sum.tolerance >= 0 &&
        Object.keys(sum).every((k) => k === 'equals' || k === 'tolerance');
      if (!valid)
        this.problem(`${path}.x-sum`, 'must be { equals: number, tolerance: number >= 0 }');
      if (schema.type !== 'object') this.problem(`${path}.x-sum`, 'belongs on an object schema');
    }
    for (const keyword of ['x-not-greater-than', 'x-not-less-than'] as const) {
      const sibling = schema[keyword];
      if (sibling === undefined) continue;
      if (typeof sibling !== 'string' || sibling === '') {
        this.problem(`${path}.${keyword}`, 'must name a sibling property');
      }
      if (schema.type !== 'number' && schema.type !== 'integer') {
        this.problem(`${path}.${keyword}`, 'belongs on a number or integer property');
      }
    }
  }

  private problem(path: string, message: string): void {
    // Enough to fix a schema; a hostile one cannot make the answer huge.
    if (this.problems.length < 50) this.problems.push({ path, message: `${path} ${message}` });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 300) : 'unknown error';
}
