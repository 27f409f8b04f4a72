// Turns a service's JSON Schema (GET /api/services/:service/schema) into a form description, so
// that no service needs a hand-written form; form-checks.ts checks values against it. Any
// registered service's schema reaches it (and the registration preview, one being typed), so it
// skips what it cannot show instead of failing on it.
import type { ConfigObject, JsonSchema } from '../api/types';
import { isObject } from './config-edits';
import { nodeLabel } from './form-labels';

/** How a leaf is edited. */
export type FieldKind =
  'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'string-list' | 'json';

export interface FieldNode {
  readonly type: 'field';
  readonly kind: FieldKind;
  /** Dotted path in the config (`thresholds.high`). */
  readonly path: string;
  readonly name: string;
  /** The schema's `title`, else the key as words (`max_distance_km` → `Max distance km`). */
  readonly label: string;
  readonly schema: JsonSchema;
  readonly description: string;
  /** Range and size limits in words (`0 to 1`), empty when there are none. */
  readonly hint: string;
}

export interface GroupNode {
  readonly type: 'group';
  readonly path: string;
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly children: readonly FormNode[];
  /** The number fields must add up to this (the schema's `x-sum`). */
  readonly sum?: { readonly equals: number; readonly tolerance: number };
  /** `anyOf [object, null]`: the whole group may be switched off (null). */
  readonly nullable: boolean;
  /** What the group becomes when it is switched on. */
  readonly defaultValue: ConfigObject;
}

export type FormNode = FieldNode | GroupNode;

/** Messages by dotted path (a field's or a group's). */
export type FieldErrors = Record<string, string>;

/** The form for a service: one group per top-level section. Secret fields are left out. */
export function buildForm(root: JsonSchema): GroupNode[] {
  const defs = defsOf(root);
  return propertiesOf(root)
    .map(([name, schema]) => nodeFor(name, name, schema, defs))
    .flatMap((node) => (node === undefined ? [] : [node.type === 'group' ? node : wrap(node)]));
}

/** The config a schema's defaults make (what version 1 of a new service starts from). */
export function formDefaults(root: JsonSchema): ConfigObject {
  return defaultsOf(root, defsOf(root));
}

/** The dotted paths of a schema's secrets (`writeOnly` strings), which the form leaves out. */
export function secretPathsOf(root: JsonSchema): string[] {
  const defs = defsOf(root);
  const visit = (schema: JsonSchema, path: string, depth: number): string[] => {
    if (depth > MAX_DEPTH) return [];
    return propertiesOf(resolve(nonNull(schema), defs)).flatMap(([name, child]) => {
      const childPath = path ? `${path}.${name}` : name;
      if (!isSchema(child)) return [];
      return isSecret(child, defs) ? [childPath] : visit(child, childPath, depth + 1);
    });
  };
  return visit(root, '', 0);
}

/** Every field of a form, depth first. */
export function fieldsOf(nodes: readonly FormNode[]): FieldNode[] {
  return nodes.flatMap((node) => (node.type === 'field' ? [node] : fieldsOf(node.children)));
}

/** Every group of a form, depth first. */
export function groupsOf(nodes: readonly FormNode[]): GroupNode[] {
  return nodes.flatMap((node) => (node.type === 'group' ? [node, ...groupsOf(node.children)] : []));
}

/** Deeper than any schema the manager accepts: a self-referencing `$ref` stops here. */
const MAX_DEPTH = 32;

function nodeFor(
  name: string,
  path: string,
  raw: JsonSchema,
  defs: Readonly<Record<string, JsonSchema>>,
  depth = 0,
): FormNode | undefined {
  if (!isSchema(raw) || isSecret(raw, defs) || depth > MAX_DEPTH) return undefined;
  const nullable = optionsOf(raw).some((option) => option.type === 'null');
  const schema = resolve(nonNull(raw), defs);
  const description = text(raw.description) ?? text(schema.description) ?? '';
  const label = text(raw.title) ?? text(schema.title) ?? nodeLabel(name);
  if (schema.type === 'object' && isSchema(schema.properties)) {
    const children = propertiesOf(schema).flatMap(([child, childSchema]) => {
      const node = nodeFor(child, `${path}.${child}`, childSchema, defs, depth + 1);
      return node === undefined ? [] : [node];
    });
    return {
      type: 'group',
      path,
      name,
      label,
      description: joinSentences(text(raw.description), text(schema.description)),
      children,
      sum: schema['x-sum'],
      nullable,
      defaultValue: defaultsOf(schema, defs, depth + 1),
    };
  }
  return {
    type: 'field',
    kind: kindOf(schema),
    path,
    name,
    label,
    schema,
    description,
    hint: hintOf(schema),
  };
}

function wrap(field: FieldNode): GroupNode {
  return {
    type: 'group',
    path: field.path,
    name: field.name,
    label: field.label,
    description: '',
    children: [field],
    nullable: false,
    defaultValue: {},
  };
}

function resolve(schema: JsonSchema, defs: Readonly<Record<string, JsonSchema>>): JsonSchema {
  if (typeof schema.$ref !== 'string') return schema;
  const name = schema.$ref.replace('#/$defs/', '');
  const target = Object.hasOwn(defs, name) ? defs[name] : undefined;
  return !isSchema(target)
    ? schema
    : { ...target, description: schema.description ?? target.description };
}

/** `anyOf [X, null]` (a group that may be switched off) is edited as X. */
function nonNull(schema: JsonSchema): JsonSchema {
  return optionsOf(schema).find((option) => option.type !== 'null') ?? schema;
}

function optionsOf(schema: JsonSchema): JsonSchema[] {
  return Array.isArray(schema.anyOf) ? schema.anyOf.filter(isSchema) : [];
}

/** A secret (`writeOnly`, which the manager's code also marks `x-secret`), here or at its `$ref`. */
function isSecret(schema: JsonSchema, defs: Readonly<Record<string, JsonSchema>>): boolean {
  const resolved = resolve(schema, defs);
  return [schema, resolved].some((s) => s.writeOnly === true || s['x-secret'] === true);
}

function isSchema(value: unknown): value is JsonSchema {
  return isObject(value);
}

function defsOf(root: JsonSchema): Readonly<Record<string, JsonSchema>> {
  return isSchema(root.$defs) ? root.$defs : {};
}

function propertiesOf(schema: JsonSchema): [string, JsonSchema][] {
  return isSchema(schema.properties) ? Object.entries(schema.properties) : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The defaults of an object's properties, as the manager fills them: a property's own default,
 * with an object's nested defaults under it where the default leaves them out.
 */
function defaultsOf(
  schema: JsonSchema,
  defs: Readonly<Record<string, JsonSchema>>,
  depth = 0,
): ConfigObject {
  const result: ConfigObject = {};
  for (const [name, child] of propertiesOf(schema)) {
    if (!isSchema(child) || isSecret(child, defs)) continue;
    const resolved = resolve(child, defs);
    const nested =
      resolved.type === 'object' && depth < MAX_DEPTH
        ? defaultsOf(resolved, defs, depth + 1)
        : undefined;
    const own = child.default;
    result[name] =
      own === undefined
        ? (nested ?? null)
        : isObject(own) && nested !== undefined
          ? { ...nested, ...own }
          : own;
  }
  return result;
}

function kindOf(schema: JsonSchema): FieldKind {
  if (Array.isArray(schema.enum)) return 'enum';
  switch (schema.type) {
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'array':
      return isSchema(schema.items) && schema.items.type === 'string' ? 'string-list' : 'json';
    default:
      return 'json';
  }
}

function hintOf(schema: JsonSchema): string {
  const parts: string[] = [];
  const low =
    schema.minimum !== undefined
      ? `≥ ${schema.minimum}`
      : schema.exclusiveMinimum !== undefined
        ? `> ${schema.exclusiveMinimum}`
        : undefined;
  const high =
    schema.maximum !== undefined
      ? `≤ ${schema.maximum}`
      : schema.exclusiveMaximum !== undefined
        ? `< ${schema.exclusiveMaximum}`
        : undefined;
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    parts.push(`${schema.minimum} to ${schema.maximum}`);
  } else {
    parts.push(...[low, high].filter((part): part is string => part !== undefined));
  }
  if (schema.type === 'integer') parts.unshift('whole number');
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} entries`);
  if (schema.maxProperties !== undefined) parts.push(`at most ${schema.maxProperties} entries`);
  return parts.join(', ');
}

function joinSentences(...texts: (string | undefined)[]): string {
  return [...new Set(texts.filter((text): text is string => !!text))].join(' ');
}

/** The schema of the field at a dotted path (secrets included), or undefined. */
export function schemaAt(root: JsonSchema, path: string): JsonSchema | undefined {
  const defs = defsOf(root);
  let current: JsonSchema | undefined = root;
  for (const key of path.split('.')) {
    const holder: JsonSchema = resolve(nonNull(current), defs);
    const next = propertiesOf(holder).find(([name]) => name === key)?.[1];
    if (!isSchema(next)) return undefined;
    current = next;
  }
  return current;
}
