import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';

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
