// Checks a config against its form as the manager would (types, ranges, lengths in code points,
// field comparisons, x-sum), so the admin sees each problem at its field while typing.
import type { ConfigObject, JsonSchema } from '../api/types';
import { isObject } from './config-edits';
import type { FieldErrors, FieldNode, FormNode, GroupNode } from './form-model';

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
  if (schema.pattern !== undefined && patternOf(schema.pattern)?.test(value) === false)
    return `must match ${schema.pattern}`;
  return undefined;
}

/** The schema's pattern as a RegExp; undefined for one this browser cannot compile (the manager judges it). */
function patternOf(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
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
