// Turns a service's JSON Schema (GET /api/services/:service/schema) into a form description, so
// that no service needs a hand-written form; form-checks.ts checks values against it.
import type { ConfigObject, JsonSchema } from '../api/types';

/** How a leaf is edited. */
export type FieldKind =
  'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'string-list' | 'json';

export interface FieldNode {
  readonly type: 'field';
  readonly kind: FieldKind;
  /** Dotted path in the config (`thresholds.high`). */
  readonly path: string;
  readonly name: string;
  readonly schema: JsonSchema;
  readonly description: string;
  /** Range and size limits in words (`0 to 1`), empty when there are none. */
  readonly hint: string;
}

export interface GroupNode {
  readonly type: 'group';
  readonly path: string;
  readonly name: string;
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
  const defs = root.$defs ?? {};
  return Object.entries(root.properties ?? {})
    .map(([name, schema]) => nodeFor(name, name, schema, defs))
    .flatMap((node) => (node === undefined ? [] : [node.type === 'group' ? node : wrap(node)]));
}

/** Every field of a form, depth first. */
export function fieldsOf(nodes: readonly FormNode[]): FieldNode[] {
  return nodes.flatMap((node) => (node.type === 'field' ? [node] : fieldsOf(node.children)));
}

/** Every group of a form, depth first. */
export function groupsOf(nodes: readonly FormNode[]): GroupNode[] {
  return nodes.flatMap((node) => (node.type === 'group' ? [node, ...groupsOf(node.children)] : []));
}

function nodeFor(
  name: string,
  path: string,
  raw: JsonSchema,
  defs: Record<string, JsonSchema>,
): FormNode | undefined {
  if (raw['x-secret']) return undefined;
  const nullableTarget = raw.anyOf?.find((option) => option.type !== 'null');
  const nullable = raw.anyOf !== undefined && raw.anyOf.some((option) => option.type === 'null');
  const schema = resolve(nullableTarget ?? raw, defs);
  const description = raw.description ?? schema.description ?? '';
  if (schema.type === 'object' && schema.properties !== undefined) {
    const children = Object.entries(schema.properties).flatMap(([child, childSchema]) => {
      const node = nodeFor(child, `${path}.${child}`, childSchema, defs);
      return node === undefined ? [] : [node];
    });
    return {
      type: 'group',
      path,
      name,
      description: joinSentences(raw.description, schema.description),
      children,
      sum: schema['x-sum'],
      nullable,
      defaultValue: defaultsOf(schema, defs),
    };
  }
  return {
    type: 'field',
    kind: kindOf(schema),
    path,
    name,
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
    description: '',
    children: [field],
    nullable: false,
    defaultValue: {},
  };
}

function resolve(schema: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  if (schema.$ref === undefined) return schema;
  const target = defs[schema.$ref.replace('#/$defs/', '')];
  return target === undefined
    ? schema
    : { ...target, description: schema.description ?? target.description };
}

function defaultsOf(schema: JsonSchema, defs: Record<string, JsonSchema>): ConfigObject {
  const result: ConfigObject = {};
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (child['x-secret']) continue;
    const resolved = resolve(child, defs);
    result[name] =
      child.default ?? (resolved.type === 'object' ? defaultsOf(resolved, defs) : null);
  }
  return result;
}

function kindOf(schema: JsonSchema): FieldKind {
  if (schema.enum !== undefined) return 'enum';
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
      return schema.items?.type === 'string' ? 'string-list' : 'json';
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
  const defs = root.$defs ?? {};
  let current: JsonSchema | undefined = root;
  for (const key of path.split('.')) {
    const holder: JsonSchema = resolve(
      current.anyOf?.find((option) => option.type !== 'null') ?? current,
      defs,
    );
    const next: JsonSchema | undefined = holder.properties?.[key];
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}
