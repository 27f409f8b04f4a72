import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import type { ConfigInvariant, InvariantSum } from './config-field.decorators';

/** Constraint name of {@link IsNotGreaterThanField}, also read by the JSON Schema generator. */
export const IS_NOT_GREATER_THAN_FIELD = 'isNotGreaterThanField';
/** Constraint name of {@link IsNotLessThanField}, also read by the JSON Schema generator. */
export const IS_NOT_LESS_THAN_FIELD = 'isNotLessThanField';

/** The field must be <= the sibling field `other` (checked only when both are finite numbers). */
export function IsNotGreaterThanField(
  other: string,
  options?: ValidationOptions,
): PropertyDecorator {
  return compareWithField(IS_NOT_GREATER_THAN_FIELD, other, 'less', (a, b) => a <= b, options);
}

/** The field must be >= the sibling field `other` (checked only when both are finite numbers). */
export function IsNotLessThanField(other: string, options?: ValidationOptions): PropertyDecorator {
  return compareWithField(IS_NOT_LESS_THAN_FIELD, other, 'greater', (a, b) => a >= b, options);
}

function compareWithField(
  name: string,
  other: string,
  word: 'less' | 'greater',
  holds: (value: number, otherValue: number) => boolean,
  options: ValidationOptions | undefined,
): PropertyDecorator {
  return ValidateBy(
    {
      name,
      constraints: [other],
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const otherValue = siblingValue(args, other);
          // A non-number on either side is reported by that field's own type check.
          return !isFiniteNumber(value) || !isFiniteNumber(otherValue) || holds(value, otherValue);
        },
        defaultMessage(args: ValidationArguments): string {
          const value: unknown = args.value;
          const otherValue = siblingValue(args, other);
          return `$property must be ${word} than or equal to ${other} (got ${args.property} ${String(value)}, ${other} ${String(otherValue)})`;
        },
      },
    },
    options,
  );
}

function siblingValue(args: ValidationArguments, key: string): unknown {
  return (args.object as Record<string, unknown>)[key];
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Slack added to an `x-sum` tolerance so that binary floating-point rounding of the sum never
 * decides: with `{ equals: 1, tolerance: 0.001 }` both 1.001 and 0.999 pass, 1.0011 fails.
 */
export const SUM_ROUNDING_SLACK = 1e-9;

/** The `x-sum` rule: `total` is within `tolerance` of `equals`, inclusive at both ends. */
export function isWithinSum(total: number, sum: InvariantSum): boolean {
  return Math.abs(total - sum.equals) <= sum.tolerance + SUM_ROUNDING_SLACK;
}

/** What `x-sum` adds up: every own property of the object whose value is a finite number. */
export function sumOfNumbers(value: object): number {
  let total = 0;
  for (const part of Object.values(value)) {
    if (typeof part === 'number' && Number.isFinite(part)) total += part;
  }
  return total;
}

/**
 * A cross-field rule, published as `x-sum`: the object's number fields add up to `equals`
 * within `tolerance` ({@link isWithinSum}). The problem names the sum, e.g. `weights must sum
 * to 1 (got 1.05)` for subject `weights`.
 */
export function sumRule<T extends object>(
  rule: InvariantSum & { readonly subject: string; readonly description: string },
): ConfigInvariant<T> {
  const sum: InvariantSum = { equals: rule.equals, tolerance: rule.tolerance };
  return {
    description: rule.description,
    sum,
    check: (value) => {
      const total = sumOfNumbers(value);
      return isWithinSum(total, sum)
        ? undefined
        : `${rule.subject} must sum to ${sum.equals} (got ${formatSum(total)})`;
    },
  };
}

// Hides float noise (1.0500000000000003) without hiding a real difference.
function formatSum(sum: number): string {
  return String(Math.round(sum * 1e6) / 1e6);
}
