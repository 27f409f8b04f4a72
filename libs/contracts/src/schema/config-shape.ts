import { compareCodeUnits, joinPath } from '../json/plain-object';
import {
  type ConfigClass,
  type ConfigInvariant,
  fieldAnnotation,
  invariantsOf,
} from './config-field.decorators';

/** One field of a configuration class, as validation, normalization and the JSON Schema see it. */
export type ConfigField =
  | {
      readonly kind: 'value';
      readonly name: string;
      readonly description: string;
      readonly secret: boolean;
    }
  | {
      readonly kind: 'nested';
      readonly name: string;
      readonly description: string;
      readonly secret: false;
      readonly type: ConfigClass;
      readonly nullable: boolean;
    }
  | {
      readonly kind: 'map';
      readonly name: string;
      readonly description: string;
      readonly secret: false;
      readonly type: ConfigClass;
      readonly maxEntries: number;
    };

/** The fields of a configuration class in declaration order, plus its cross-field rules. */
export interface ConfigShape {
  readonly type: ConfigClass;
  readonly fields: readonly ConfigField[];
  readonly fieldsByName: ReadonlyMap<string, ConfigField>;
  readonly invariants: readonly ConfigInvariant<object>[];
}

/**
 * Map keys become path segments, so they must be 1 to 100 characters without a dot. The `u`
 * flag counts code points, as the published `propertyNames` pattern means (JSON Schema).
 */
export const MAP_KEY_PATTERN = /^[^.]{1,100}$/u;

const shapes = new WeakMap<ConfigClass, ConfigShape>();

/** The (cached) shape of a configuration class; throws if a field lacks a description. */
export function configShape(type: ConfigClass): ConfigShape {
  const cached = shapes.get(type);
  if (cached) {
    return cached;
  }
  // Field initializers run in declaration order (base class first), which is the order of the normalized output.
  const fields = Object.keys(new type()).map((name) => describeField(type, name));
  const shape: ConfigShape = {
    type,
    fields,
    fieldsByName: new Map(fields.map((field) => [field.name, field])),
    invariants: invariantsOf(type),
  };
  shapes.set(type, shape);
  return shape;
}

/** Converts a configuration instance to plain JSON in declaration order, map keys sorted; secrets only when asked. */
export function toPlainConfig(
  instance: object,
  type: ConfigClass,
  includeSecrets: boolean,
): Record<string, unknown> {
  const source = instance as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  for (const field of configShape(type).fields) {
    const value = source[field.name];
    if (value === undefined || (field.secret && !includeSecrets)) {
      continue;
    }
    plain[field.name] = plainField(field, value, includeSecrets);
  }
  return plain;
}

/** The defaults of a configuration class as plain JSON, without secrets. */
export function plainDefaults(type: ConfigClass): Record<string, unknown> {
  return toPlainConfig(new type(), type, false);
}

/** Dotted paths of every secret field, e.g. `ai.api_key`. */
export function secretPathsOf(type: ConfigClass): string[] {
  return collectPaths(type, '', (field) => field.secret, new Set());
}

/** Dotted paths of every map-valued field, e.g. `category_weights.overrides`. */
export function mapPathsOf(type: ConfigClass): string[] {
  return collectPaths(type, '', (field) => field.kind === 'map', new Set());
}

function plainField(field: ConfigField, value: unknown, includeSecrets: boolean): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  switch (field.kind) {
    case 'nested':
      return toPlainConfig(value, field.type, includeSecrets);
    case 'map': {
      const entries = value as Record<string, unknown>;
      const plain: Record<string, unknown> = {};
      // Sorted so that two documents that differ only in key order normalize to the same bytes.
      for (const key of Object.keys(entries).sort(compareCodeUnits)) {
        const entry = entries[key];
        plain[key] =
          typeof entry === 'object' && entry !== null
            ? toPlainConfig(entry, field.type, includeSecrets)
            : entry;
      }
      return plain;
    }
    case 'value':
      return structuredClone(value);
  }
}

function collectPaths(
  type: ConfigClass,
  prefix: string,
  wanted: (field: ConfigField) => boolean,
  visiting: Set<ConfigClass>,
): string[] {
  if (visiting.has(type)) {
    throw new TypeError(
      `${type.name} contains itself; recursive configuration classes are not supported`,
    );
  }
  visiting.add(type);
  const paths: string[] = [];
  for (const field of configShape(type).fields) {
    const path = joinPath(prefix, field.name);
    if (wanted(field)) {
      paths.push(path);
    }
    if (field.kind === 'nested') {
      paths.push(...collectPaths(field.type, path, wanted, visiting));
    } else if (field.kind === 'map' && hasSecretsOrMaps(field.type)) {
      // Paths inside map entries would need wildcards, which secret storage and deepMerge do not support.
      throw new TypeError(`${type.name}.${field.name}: map entries cannot contain secrets or maps`);
    }
  }
  visiting.delete(type);
  return paths;
}

function hasSecretsOrMaps(type: ConfigClass): boolean {
  return configShape(type).fields.some(
    (field) =>
      field.secret ||
      field.kind === 'map' ||
      (field.kind === 'nested' && hasSecretsOrMaps(field.type)),
  );
}

function describeField(type: ConfigClass, name: string): ConfigField {
  const annotation = fieldAnnotation(type, name);
  const description = annotation?.description;
  if (description === undefined || description.trim() === '') {
    throw new TypeError(`${type.name}.${name} needs a @Describe(...) description`);
  }
  const shape = annotation?.shape ?? { kind: 'value' };
  if (annotation?.secret === true && shape.kind !== 'value') {
    throw new TypeError(`${type.name}.${name}: only plain string fields can be secrets`);
  }
  switch (shape.kind) {
    case 'value':
      return { kind: 'value', name, description, secret: annotation?.secret ?? false };
    case 'nested':
      return {
        kind: 'nested',
        name,
        description,
        secret: false,
        type: shape.type(),
        nullable: shape.nullable,
      };
    case 'map':
      return {
        kind: 'map',
        name,
        description,
        secret: false,
        type: shape.type(),
        maxEntries: shape.maxEntries,
      };
  }
}
