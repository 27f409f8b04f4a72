import {
  ARRAY_MAX_SIZE,
  ARRAY_MIN_SIZE,
  IS_ARRAY,
  IS_BOOLEAN,
  IS_IN,
  IS_INT,
  IS_NOT_EMPTY,
  IS_NUMBER,
  IS_POSITIVE,
  IS_STRING,
  MAX,
  MAX_LENGTH,
  MIN,
  MIN_LENGTH,
} from 'class-validator';
import { toJson } from '../json/to-json';
import {
  IS_NOT_GREATER_THAN_FIELD,
  IS_NOT_LESS_THAN_FIELD,
} from '../schema/cross-field.validators';
import { MAX_CODE_POINTS, MIN_CODE_POINTS } from '../schema/text-length.validators';
import type { MutableSchema } from './json-schema';

// How each class-validator constraint of a configuration field is published in JSON Schema:
// the one table the generator and its readers must agree on.

/** Adds the JSON Schema keyword for one class-validator constraint (conditions have none). */
export function applyConstraint(
  schema: MutableSchema,
  name: string,
  constraints: readonly unknown[],
  notes: string[],
): void {
  const first = constraints[0];
  switch (name) {
    case IS_NUMBER:
      // IsInt wins whatever the decorator order.
      schema.type = schema.type === 'integer' ? 'integer' : 'number';
      break;
    case IS_INT:
      schema.type = 'integer';
      break;
    case IS_BOOLEAN:
      schema.type = 'boolean';
      break;
    case IS_STRING:
      schema.type = 'string';
      break;
    case IS_ARRAY:
      schema.type = 'array';
      break;
    case IS_IN:
      if (Array.isArray(first)) {
        schema.enum = first.map((item: unknown) => toJson(item));
        if (first.every((item: unknown) => typeof item === 'string')) {
          schema.type = 'string';
        }
      }
      break;
    case MIN:
      schema.minimum = asNumber(first);
      break;
    case MAX:
      schema.maximum = asNumber(first);
      break;
    case IS_POSITIVE:
      schema.exclusiveMinimum = 0;
      break;
    case MIN_CODE_POINTS:
      schema.minLength = asNumber(first);
      break;
    case IS_NOT_EMPTY:
      schema.minLength = Math.max(schema.minLength ?? 0, 1);
      break;
    case MAX_CODE_POINTS:
      schema.maxLength = asNumber(first);
      break;
    case MIN_LENGTH:
    case MAX_LENGTH:
      // class-validator counts UTF-16 units less U+FE0E/U+FE0F; JSON Schema counts code points.
      // Publishing one rule while applying the other would split a mixed fleet.
      throw new TypeError(
        `${name} does not count characters as JSON Schema does: use the contracts' MinCodePoints/MaxCodePoints instead`,
      );
    case ARRAY_MIN_SIZE:
      schema.minItems = asNumber(first);
      break;
    case ARRAY_MAX_SIZE:
      schema.maxItems = asNumber(first);
      break;
    case IS_NOT_GREATER_THAN_FIELD:
      notes.push(`Must be less than or equal to ${String(first)}.`);
      schema['x-not-greater-than'] = String(first);
      break;
    case IS_NOT_LESS_THAN_FIELD:
      notes.push(`Must be greater than or equal to ${String(first)}.`);
      schema['x-not-less-than'] = String(first);
      break;
    default:
      // Conditions (ValidateIf), nested validation and unknown custom rules have no JSON Schema keyword.
      break;
  }
}

function asNumber(value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`expected a numeric constraint, got ${String(value)}`);
  }
  return value;
}
