// Turns a service's JSON Schema (GET /api/services/:service/schema) into a form description and
// checks values against it, so that no service needs a hand-written form.
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

/** The problem with one field's value, or undefined. `siblings` is the object holding it. */
export function checkField(
  field: FieldNode,
  value: unknown,
  siblings: ConfigObject,
): string | undefined {
  const schema = field.schema;
  switch (field.kind) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (field.kind === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
      if (schema.minimum !== undefined && value < schema.minimum)
        return `must be at least ${schema.minimum}`;
      if (schema.maximum !== undefined && value > schema.maximum)
        return `must be at most ${schema.maximum}`;
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
        return `must be greater than ${schema.exclusiveMinimum}`;
      if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
        return `must be less than ${schema.exclusiveMaximum}`;
      const notAbove = schema['x-not-greater-than'];
      const other = notAbove === undefined ? undefined : siblings[notAbove];
      if (notAbove !== undefined && typeof other === 'number' && value > other)
        return `must be less than or equal to ${notAbove} (${other})`;
      const notBelow = schema['x-not-less-than'];
      const floor = notBelow === undefined ? undefined : siblings[notBelow];
      if (notBelow !== undefined && typeof floor === 'number' && value < floor)
        return `must be greater than or equal to ${notBelow} (${floor})`;
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'enum':
      return schema.enum?.some((option) => option === value)
        ? undefined
        : `must be one of ${(schema.enum ?? []).map((option) => JSON.stringify(option)).join(', ')}`;
    case 'string':
      return checkString(schema, value);
    case 'string-list': {
      if (!Array.isArray(value)) return 'must be a list';
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        return `must have at most ${schema.maxItems} entries`;
      const bad = value
        .map((item) => checkString(schema.items ?? {}, item))
        .find((problem) => problem);
      return bad === undefined ? undefined : `every entry ${bad}`;
    }
    case 'json':
      return value === undefined ? 'must be valid JSON' : undefined;
  }
}

/**
 * A string's length as JSON Schema (and the manager) count it: in code points, so 😀 is one and
 * ❤️ (U+2764 U+FE0F) two. Not `value.length` (UTF-16 units) nor the input's maxlength attribute.
 */
export function codePointLength(value: string): number {
  return Array.from(value).length;
}

/** The manager's `x-sum` slack for floating-point rounding: the tolerance is inclusive. */
export const SUM_ROUNDING_SLACK = 1e-9;

function checkString(schema: JsonSchema, value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be text';
  const length = codePointLength(value);
  if (schema.minLength !== undefined && length < schema.minLength)
    return schema.minLength === 1
      ? 'must not be empty'
      : `must have at least ${schema.minLength} characters`;
  if (schema.maxLength !== undefined && length > schema.maxLength)
    return `must have at most ${schema.maxLength} characters`;
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
    return `must match ${schema.pattern}`;
  return undefined;
}

/** The sum of a group's number fields, or undefined when one of them is not a number. */
export function sumOf(group: GroupNode, value: unknown): number | undefined {
  if (!isObject(value)) return undefined;
  let total = 0;
  for (const child of group.children) {
    if (child.type !== 'field' || (child.kind !== 'number' && child.kind !== 'integer')) continue;
    const part = value[child.name];
    if (typeof part !== 'number' || !Number.isFinite(part)) return undefined;
    total += part;
  }
  return total;
}

/** The problem with a group's cross-field rule (`x-sum`), or undefined. */
export function checkGroup(group: GroupNode, value: unknown): string | undefined {
  if (group.sum === undefined || value === null) return undefined;
  const total = sumOf(group, value);
  if (total === undefined) return undefined;
  return Math.abs(total - group.sum.equals) <= group.sum.tolerance + SUM_ROUNDING_SLACK
    ? undefined
    : `must sum to ${group.sum.equals} (now ${formatNumber(total)})`;
}

/** Every client-side problem of a config, by path. */
export function checkConfig(form: readonly GroupNode[], config: ConfigObject): FieldErrors {
  const errors: FieldErrors = {};
  const visit = (node: FormNode, holder: unknown) => {
    if (!isObject(holder)) return;
    const value = holder[node.name];
    if (node.type === 'field') {
      const problem = checkField(node, value, holder);
      if (problem !== undefined) errors[node.path] = problem;
      return;
    }
    if (value === null && node.nullable) return;
    const problem = checkGroup(node, value);
    if (problem !== undefined) errors[node.path] = problem;
    for (const child of node.children) visit(child, value);
  };
  for (const group of form) {
    if (group.children.length === 1 && group.children[0].path === group.path)
      visit(group.children[0], config);
    else visit(group, config);
  }
  return errors;
}

/** Rounds away float noise (0.30000000000000004) for display. */
export function formatNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

export function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path, or undefined. */
export function getAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** A copy of `root` with `value` at the dotted path (objects along the way are copied, not changed). */
export function setAt(root: ConfigObject, path: string, value: unknown): ConfigObject {
  const [key, ...rest] = path.split('.');
  if (rest.length === 0) return { ...root, [key]: value };
  const child = root[key];
  return { ...root, [key]: setAt(isObject(child) ? child : {}, rest.join('.'), value) };
}

/**
 * The smallest PATCH body that turns `base` into `edited` under the manager's deep merge: objects
 * merge (a key missing from `edited` is sent as null, which deletes a map entry), arrays and
 * scalars replace. Undefined when nothing changed.
 */
export function patchBetween(base: unknown, edited: unknown): unknown {
  if (isObject(base) && isObject(edited)) {
    const patch: ConfigObject = {};
    for (const key of new Set([...Object.keys(base), ...Object.keys(edited)])) {
      if (!Object.hasOwn(edited, key)) {
        patch[key] = null;
        continue;
      }
      const child = patchBetween(base[key], edited[key]);
      if (child !== undefined) patch[key] = child;
    }
    return Object.keys(patch).length === 0 ? undefined : patch;
  }
  return sameJson(base, edited) ? undefined : edited;
}

/**
 * The form-level paths where `edited` differs from `base`: fields (a map or list as a whole) and
 * nullable groups switched on or off.
 */
export function changedPaths(
  form: readonly GroupNode[],
  base: ConfigObject,
  edited: ConfigObject,
): string[] {
  const changed: string[] = [];
  const visit = (node: FormNode) => {
    const before = getAt(base, node.path);
    const after = getAt(edited, node.path);
    if (node.type === 'field' || (node.nullable && (before === null) !== (after === null))) {
      if (!sameJson(before, after)) changed.push(node.path);
      return;
    }
    if (after !== null) node.children.forEach(visit);
  };
  form.forEach(visit);
  return changed;
}

/** `current` with the admin's changes (paths from {@link changedPaths}) laid over it. */
export function rebase(
  current: ConfigObject,
  edited: ConfigObject,
  paths: readonly string[],
): ConfigObject {
  return paths.reduce((result, path) => setAt(result, path, getAt(edited, path)), current);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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
