import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Constraint name of {@link MinCodePoints}, read by the JSON Schema generator (`minLength`). */
export const MIN_CODE_POINTS = 'minCodePoints';
/** Constraint name of {@link MaxCodePoints}, read by the JSON Schema generator (`maxLength`). */
export const MAX_CODE_POINTS = 'maxCodePoints';

/**
 * The length of a string as JSON Schema's `minLength`/`maxLength` count it: in Unicode code
 * points, so an astral character (😀, two UTF-16 units) is one and `❤️` (U+2764 U+FE0F) is two.
 */
export function codePointLength(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}

/**
 * The string has at least `min` code points. Used instead of class-validator's MinLength, which
 * counts UTF-16 units less U+FE0E/U+FE0F and so disagrees with the published JSON Schema.
 */
export function MinCodePoints(min: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: MIN_CODE_POINTS,
      constraints: [min],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && codePointLength(value) >= min,
        defaultMessage: () => `$property must be longer than or equal to ${min} characters`,
      },
    },
    options,
  );
}

/** The string has at most `max` code points (what JSON Schema's `maxLength` means). */
export function MaxCodePoints(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: MAX_CODE_POINTS,
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && codePointLength(value) <= max,
        defaultMessage: () => `$property must be shorter than or equal to ${max} characters`,
      },
    },
    options,
  );
}
