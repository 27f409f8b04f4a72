import type { JsonSchema } from '../json-schema/json-schema';
import { compareCodeUnits, isPlainObject } from '../json/plain-object';
import { isMapSchema, isObjectSchema, SchemaWalker } from './schema-walk';

/**
 * The configuration a document stands for, as a new value: every omitted property with a
 * `default` gets it (an omitted object gets its own properties' defaults), properties in the
 * schema's order, then anything the schema does not know (so validation can name it), map
 * entries sorted by key so that two documents differing only in key order give the same bytes.
 * Secrets (`writeOnly`) are left out unless `includeSecrets`, and never filled from a default.
 * Never throws: a value of the wrong type is copied as is, for validation to report.
 */
export function normalizeConfig(
  root: JsonSchema,
  value: unknown,
  includeSecrets: boolean,
): unknown {
  return new Normalizer(walkerOf(root), includeSecrets).value(root, value, 0);
}

// A frozen schema (a ServiceDefinition's) keeps one walker, and with it its resolved `$ref`s.
const walkers = new WeakMap<JsonSchema, SchemaWalker>();

function walkerOf(root: JsonSchema): SchemaWalker {
  if (!Object.isFrozen(root)) return new SchemaWalker(root);
  let walker = walkers.get(root);
  if (walker === undefined) {
    walker = new SchemaWalker(root);
    walkers.set(root, walker);
  }
  return walker;
}

// Deeper than any configuration may be (json-safety stops input at 32 levels first).
const MAX_DEPTH = 64;

class Normalizer {
  constructor(
    private readonly walker: SchemaWalker,
    private readonly includeSecrets: boolean,
  ) {}

  value(schema: JsonSchema, value: unknown, depth: number): unknown {
    if (depth > MAX_DEPTH) return value;
    if (Array.isArray(value)) {
      const items = this.walker.resolve(schema).items;
      return value.map((item: unknown) =>
        items === undefined ? clone(item) : this.value(items, item, depth + 1),
      );
    }
    if (!isPlainObject(value)) return value;
    const object = this.walker.objectBranch(schema);
    if (!isObjectSchema(object)) return clone(value);
    return isMapSchema(object) ? this.map(object, value, depth) : this.object(object, value, depth);
  }

  /** The value of an omitted property, or undefined when it has none. */
  missing(schema: JsonSchema, depth: number): unknown {
    const resolved = this.walker.resolve(schema);
    if (resolved.writeOnly === true) return undefined;
    if (resolved.default !== undefined) return this.value(schema, clone(resolved.default), depth);
    const object = this.walker.objectBranch(schema);
    if (isObjectSchema(object) && !this.walker.acceptsNull(schema) && !isMapSchema(object)) {
      return this.object(object, {}, depth);
    }
    return undefined;
  }

  private object(
    schema: JsonSchema,
    value: Readonly<Record<string, unknown>>,
    depth: number,
  ): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const properties = schema.properties ?? {};
    for (const [name, child] of Object.entries(properties)) {
      const given = Object.hasOwn(value, name) ? value[name] : undefined;
      if (this.walker.resolve(child).writeOnly === true && !this.includeSecrets) continue;
      const normalized =
        given === undefined ? this.missing(child, depth + 1) : this.value(child, given, depth + 1);
      if (normalized !== undefined) result[name] = normalized;
    }
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(properties, key) || value[key] === undefined) continue;
      const extra = isPlainObject(schema.additionalProperties)
        ? this.value(schema.additionalProperties, value[key], depth + 1)
        : clone(value[key]);
      result[key] = extra;
    }
    return result;
  }

  private map(
    schema: JsonSchema,
    value: Readonly<Record<string, unknown>>,
    depth: number,
  ): Record<string, unknown> {
    const entry = schema.additionalProperties as JsonSchema;
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareCodeUnits)) {
      if (value[key] !== undefined) result[key] = this.value(entry, value[key], depth + 1);
    }
    return result;
  }
}

/** A deep copy of a JSON value (inputs are never shared with the result). */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (value[key] !== undefined) copy[key] = clone(value[key]);
    }
    return copy;
  }
  return value;
}
