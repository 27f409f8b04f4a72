/**
 * The first checks of the manager's checkServiceSchema (libs/contracts/src/registry/
 * service-schema.ts), as the admin types a schema: its size, dialect and root, the supported
 * keywords, local `$ref`s, property names, where secrets may be and the `x-` keywords, with the
 * same paths and messages. The rest (Ajv's meta-schema, compiling, the defaults) needs Ajv, whose
 * generated code the page's Content-Security-Policy rightly forbids: the manager judges those on
 * Register. The page may not import the contracts' code, hence this copy; schema-precheck.spec.ts
 * proves that both find the same problems.
 */
import type { ErrorDetail } from '../api/types';
import { canonicalJson, isJsonObject, utf8Length } from './json-text';

/** Service names: one MQTT topic segment (the contracts' SERVICE_NAME_PATTERN). */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

/** Largest schema a service may have, as canonical JSON (the manager answers 413 above it). */
export const MAX_SCHEMA_BYTES = 160 * 1024;

/** The JSON Schema dialect of configuration schemas. */
export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Keywords a configuration schema may use (draft 2020-12, a subset, plus the contract's own). */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  ...['$schema', '$id', '$defs', '$ref', '$comment', 'title', 'description', 'default'],
  ...['examples', 'deprecated', 'readOnly', 'writeOnly', 'type', 'enum', 'const', 'anyOf'],
  ...['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  ...['minLength', 'maxLength', 'pattern', 'items', 'minItems', 'maxItems', 'uniqueItems'],
  ...['properties', 'required', 'additionalProperties', 'propertyNames'],
  ...['minProperties', 'maxProperties', 'x-sum', 'x-not-greater-than', 'x-not-less-than'],
  'x-secret',
]);

const SCHEMA_VALUED = ['items', 'additionalProperties', 'propertyNames'];
const SCHEMA_MAPS = ['properties', '$defs'];
const SCHEMA_LISTS = ['anyOf'];
const PROPERTY_NAME = /^[^.]{1,100}$/u;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const LONE_SURROGATE = /\p{Cs}/u;
const MAX_SCHEMA_DEPTH = 32;
/** The manager stops listing problems here. */
const MAX_PROBLEMS = 50;

/** What the page can say about a schema before sending it; `tooLarge`: the manager answers 413. */
export interface SchemaPrecheck {
  readonly problems: ErrorDetail[];
  readonly tooLarge: boolean;
}

/** Why the manager would refuse this service name, or undefined. */
export function serviceNameProblem(name: string): string | undefined {
  return SERVICE_NAME_PATTERN.test(name)
    ? undefined
    : 'must be 2 to 63 lowercase letters, digits or "-", starting with a letter (it is an MQTT topic segment)';
}

/** The problems of a schema document that the manager finds before Ajv looks at it. */
export function precheckSchema(document: unknown): SchemaPrecheck {
  const problems: ErrorDetail[] = [];
  if (!isJsonObject(document)) {
    problems.push({ path: 'schema', message: 'schema must be a JSON object (a JSON Schema)' });
    return { problems, tooLarge: false };
  }
  const bytes = utf8Length(canonicalJson(document));
  if (bytes > MAX_SCHEMA_BYTES) {
    problems.push({
      path: 'schema',
      message: `schema is ${bytes} bytes as canonical JSON, more than the limit of ${MAX_SCHEMA_BYTES}`,
    });
    return { problems, tooLarge: true };
  }
  if (document.$schema !== undefined && document.$schema !== SCHEMA_DIALECT) {
    problems.push({
      path: 'schema.$schema',
      message: `schema.$schema must be ${SCHEMA_DIALECT} (draft 2020-12) when given`,
    });
  }
  if (document.type !== 'object' || !isJsonObject(document.properties)) {
    problems.push({
      path: 'schema',
      message: 'schema must describe an object: type "object" with properties',
    });
  }
  new StructureCheck(document, problems).schema(document, 'schema', { inList: false, depth: 0 });
  return { problems, tooLarge: false };
}

interface Place {
  /** Inside an array's items or a map's entries: no secret may live there. */
  readonly inList: boolean;
  readonly depth: number;
}

class StructureCheck {
  constructor(
    private readonly root: Record<string, unknown>,
    private readonly problems: ErrorDetail[],
  ) {}

  schema(value: unknown, path: string, place: Place): void {
    if (typeof value === 'boolean') return;
    if (!isJsonObject(value)) {
      this.problem(path, 'must be a schema (a JSON object)');
      return;
    }
    if (place.depth > MAX_SCHEMA_DEPTH) {
      this.problem(path, `is nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
      return;
    }
    for (const keyword of Object.keys(value)) {
      if (!SUPPORTED_KEYWORDS.has(keyword)) {
        this.problem(`${path}.${keyword}`, `uses the unsupported keyword "${keyword}"`);
      }
    }
    if (typeof value.$ref === 'string') this.reference(value.$ref, `${path}.$ref`);
    for (const keyword of SCHEMA_VALUED) {
      if (value[keyword] !== undefined) {
        const inList = place.inList || keyword !== 'propertyNames';
        this.schema(value[keyword], `${path}.${keyword}`, { inList, depth: place.depth + 1 });
      }
    }
    for (const keyword of SCHEMA_LISTS) {
      const list = value[keyword];
      if (list === undefined) continue;
      if (!Array.isArray(list)) this.problem(`${path}.${keyword}`, 'must be a list of schemas');
      else
        list.forEach((child: unknown, i) =>
          this.schema(child, `${path}.${keyword}.${i}`, { ...place, depth: place.depth + 1 }),
        );
    }
    for (const keyword of SCHEMA_MAPS) {
      const map = value[keyword];
      if (map === undefined) continue;
      if (!isJsonObject(map)) {
        this.problem(`${path}.${keyword}`, 'must be an object of schemas');
        continue;
      }
      for (const [name, child] of Object.entries(map)) {
        if (keyword === 'properties') this.propertyName(name, `${path}.properties`);
        this.schema(child, `${path}.${keyword}.${name}`, { ...place, depth: place.depth + 1 });
      }
    }
    this.secret(value, path, place);
    this.extensions(value, path);
  }

  private reference(ref: string, path: string): void {
    const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const defs = this.root.$defs;
    if (match === null) {
      this.problem(path, `"${ref}" is not supported: only local references like #/$defs/Name`);
    } else if (!isJsonObject(defs) || !Object.hasOwn(defs, match[1])) {
      this.problem(path, `"${ref}" points at nothing in $defs`);
    }
  }

  private propertyName(name: string, path: string): void {
    if (!PROPERTY_NAME.test(name) || FORBIDDEN_KEYS.has(name) || LONE_SURROGATE.test(name)) {
      this.problem(
        path,
        `has the property name ${JSON.stringify(name)}: names are 1 to 100 characters without "." and not __proto__, constructor or prototype`,
      );
    }
  }

  private secret(schema: Record<string, unknown>, path: string, place: Place): void {
    if (schema.writeOnly !== true && schema['x-secret'] !== true) return;
    if (schema.type !== 'string') {
      this.problem(path, 'is a secret (writeOnly) but not of type "string": secrets are strings');
    }
    if (place.inList) {
      this.problem(path, 'is a secret inside an array or map: secrets live at fixed paths');
    }
    if (schema.writeOnly !== true) this.problem(path, 'has x-secret without writeOnly: true');
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

  private extensions(schema: Record<string, unknown>, path: string): void {
    const sum = schema['x-sum'];
    if (sum !== undefined) {
      const valid =
        isJsonObject(sum) &&
        typeof sum.equals === 'number' &&
        typeof sum.tolerance === 'number' &&
        sum.tolerance >= 0 &&
        Object.keys(sum).every((k) => k === 'equals' || k === 'tolerance');
      if (!valid)
        this.problem(`${path}.x-sum`, 'must be { equals: number, tolerance: number >= 0 }');
      if (schema.type !== 'object') this.problem(`${path}.x-sum`, 'belongs on an object schema');
    }
    for (const keyword of ['x-not-greater-than', 'x-not-less-than']) {
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
    if (this.problems.length < MAX_PROBLEMS) {
      this.problems.push({ path, message: `${path} ${message}` });
    }
  }
}
