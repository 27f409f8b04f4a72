import { getMetadataStorage } from 'class-validator';
import type { JsonValue } from '../json/json.types';
import { toJson } from '../json/to-json';
import type { ConfigClass } from '../schema/config-field.decorators';
import {
  type ConfigField,
  configShape,
  MAP_KEY_PATTERN,
  toPlainConfig,
} from '../schema/config-shape';
import { applyConstraint } from './constraint-keywords';

/** JSON Schema type names. */
export type JsonSchemaType =
  'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/** The subset of JSON Schema (draft 2020-12) that configuration schemas use. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $ref?: string;
  readonly $defs?: { readonly [name: string]: JsonSchema };
  readonly $comment?: string;
  readonly title?: string;
  readonly description?: string;
  readonly examples?: readonly JsonValue[];
  readonly deprecated?: boolean;
  readonly readOnly?: boolean;
  readonly type?: JsonSchemaType | readonly JsonSchemaType[];
  readonly enum?: readonly JsonValue[];
  readonly const?: JsonValue;
  readonly default?: JsonValue;
  readonly multipleOf?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly properties?: { readonly [name: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly propertyNames?: JsonSchema;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly writeOnly?: boolean;
  readonly 'x-secret'?: boolean;
  /** Extension: the object's number fields must sum to `equals` (within `tolerance`). */
  readonly 'x-sum'?: { readonly equals: number; readonly tolerance: number };
  /** Extension: this number must be <= the named sibling field. */
  readonly 'x-not-greater-than'?: string;
  /** Extension: this number must be >= the named sibling field. */
  readonly 'x-not-less-than'?: string;
}

/** A JsonSchema being built. */
export type MutableSchema = { -readonly [K in keyof JsonSchema]: JsonSchema[K] };

/** What {@link buildJsonSchema} needs to describe a service. */
export interface JsonSchemaSource {
  readonly name: string;
  readonly description: string;
  readonly schema: ConfigClass;
}

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** Builds a standalone JSON Schema for a service's configuration class, nested classes under `$defs`. */
export function buildJsonSchema(source: JsonSchemaSource): JsonSchema {
  const defs = new Map<string, { type: ConfigClass; schema: JsonSchema }>();
  const root = objectSchema(source.schema, defs);
  const $defs: Record<string, JsonSchema> = {};
  for (const name of [...defs.keys()].sort()) {
    $defs[name] = defs.get(name)?.schema ?? {};
  }
  return {
    $schema: DRAFT_2020_12,
    $id: `urn:config-centre:service:${source.name}`,
    title: source.name,
    description: source.description,
    ...root,
    $defs,
  };
}

function objectSchema(
  type: ConfigClass,
  defs: Map<string, { type: ConfigClass; schema: JsonSchema }>,
): JsonSchema {
  const shape = configShape(type);
  const defaults = new type() as Record<string, unknown>;
  const properties: Record<string, JsonSchema> = {};
  for (const field of shape.fields) {
    properties[field.name] = fieldSchema(type, field, defaults[field.name], defs);
  }
  const rules = shape.invariants.map((invariant) => invariant.description);
  const sum = shape.invariants.find((invariant) => invariant.sum !== undefined)?.sum;
  return {
    ...(rules.length > 0 ? { description: rules.join(' ') } : {}),
    ...(sum !== undefined ? { 'x-sum': { equals: sum.equals, tolerance: sum.tolerance } } : {}),
    type: 'object',
    properties,
    // Secrets are never part of the stored configuration, so they cannot be required.
    required: shape.fields.filter((field) => !field.secret).map((field) => field.name),
    additionalProperties: false,
  };
}

function refTo(
  type: ConfigClass,
  defs: Map<string, { type: ConfigClass; schema: JsonSchema }>,
): JsonSchema {
  const existing = defs.get(type.name);
  if (existing === undefined) {
    // Reserve the name first so that a class reached again while being described is not described twice.
    defs.set(type.name, { type, schema: {} });
    defs.set(type.name, { type, schema: objectSchema(type, defs) });
  } else if (existing.type !== type) {
    throw new TypeError(
      `two configuration classes are named ${type.name}; $defs needs unique names`,
    );
  }
  return { $ref: `#/$defs/${type.name}` };
}

function fieldSchema(
  owner: ConfigClass,
  field: ConfigField,
  defaultValue: unknown,
  defs: Map<string, { type: ConfigClass; schema: JsonSchema }>,
): JsonSchema {
  switch (field.kind) {
    case 'nested': {
      const ref = refTo(field.type, defs);
      const fieldDefault =
        typeof defaultValue === 'object' && defaultValue !== null
          ? toJson(toPlainConfig(defaultValue, field.type, false))
          : null;
      if (field.nullable) {
        return {
          description: field.description,
          anyOf: [ref, { type: 'null' }],
          default: fieldDefault,
        };
      }
      return { description: field.description, ...ref, default: fieldDefault };
    }
    case 'map':
      return {
        description: field.description,
        type: 'object',
        additionalProperties: refTo(field.type, defs),
        propertyNames: { pattern: MAP_KEY_PATTERN.source },
        maxProperties: field.maxEntries,
        default: toJson(defaultValue),
      };
    case 'value':
      return valueSchema(owner, field, defaultValue);
  }
}

function valueSchema(owner: ConfigClass, field: ConfigField, defaultValue: unknown): JsonSchema {
  const schema: MutableSchema = { description: field.description };
  const items: MutableSchema = {};
  const notes: string[] = [];
  // Only this class and its ancestors: other classes in the global storage never leak in.
  const metadatas = getMetadataStorage()
    .getTargetValidationMetadatas(owner, '', true, false)
    .filter((metadata) => metadata.propertyName === field.name);
  for (const metadata of metadatas) {
    const constraints: readonly unknown[] = metadata.constraints ?? [];
    applyConstraint(
      metadata.each ? items : schema,
      metadata.name ?? metadata.type,
      constraints,
      notes,
    );
  }
  if (Object.keys(items).length > 0) {
    schema.items = items;
  }
  if (notes.length > 0) {
    schema.description = `${field.description}. ${notes.join(' ')}`;
  }
  schema.default = toJson(defaultValue);
  if (field.secret) {
    schema.writeOnly = true;
    schema['x-secret'] = true;
  }
  return inReadingOrder(schema);
}

// Decorators register bottom-up; a fixed key order keeps the published schema readable whatever the decorator order.
const KEY_ORDER: readonly (keyof JsonSchema)[] = [
  'description',
  'type',
  'enum',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'items',
  'default',
  'writeOnly',
  'x-secret',
  'x-not-greater-than',
  'x-not-less-than',
];

function inReadingOrder(schema: MutableSchema): JsonSchema {
  const rank = (key: string): number => {
    const index = KEY_ORDER.indexOf(key as keyof JsonSchema);
    return index === -1 ? KEY_ORDER.length : index;
  };
  const ordered: MutableSchema = {};
  for (const key of Object.keys(schema).sort((a, b) => rank(a) - rank(b))) {
    Object.assign(ordered, { [key]: schema[key as keyof JsonSchema] });
  }
  if (schema.items !== undefined) {
    ordered.items = inReadingOrder(schema.items);
  }
  return ordered;
}
