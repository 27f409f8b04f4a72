import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationArguments } from 'class-validator';
import type { Request } from 'express';

/** Decimal digits, no sign, no leading zeros, no spaces: what `Number()` alone does not ensure. */
const DECIMAL_INTEGER = /^(?:0|[1-9][0-9]*)$/;

/** Largest value any numeric input takes (versions and audit ids are 32-bit integers). */
const MAX_INTEGER = 2_147_483_647;

/**
 * The number a path or query value spells in decimal digits, or undefined. `Number()` also
 * reads `0x10`, `0b10`, `1e1`, ` 1`, `1.0` and the empty string, so it never sees raw input.
 */
export function parseDecimalInteger(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !DECIMAL_INTEGER.test(raw)) return undefined;
  const value = Number(raw);
  return value <= MAX_INTEGER ? value : undefined;
}

/**
 * A query DTO property that is an integer in `[min, max]` written in decimal digits; anything
 * else is a 400 naming the property. Replaces `@Type(() => Number) @IsInt() @Min() @Max()`.
 */
export function DecimalInteger(range: { min: number; max?: number }): PropertyDecorator {
  const max = range.max ?? MAX_INTEGER;
  const toNumber = Transform(
    ({ value }: { value: unknown }) => parseDecimalInteger(value) ?? value,
  );
  const check = ValidateBy({
    name: 'decimalInteger',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && value >= range.min && value <= max,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'} must be a decimal integer from ${range.min} to ${max}`,
    },
  });
  return (target, key) => {
    toNumber(target, key);
    check(target, key);
  };
}

/**
 * A path parameter as the raw string. `@Param()` would hand the global ValidationPipe (with
 * `transform`) a parameter typed `number` first, which converts it with `Number()`; custom
 * decorators are left alone, so a pipe given here sees what the client sent.
 */
export const RawParam = createParamDecorator(
  (name: string, ctx: ExecutionContext): string | undefined => {
    const value: unknown = ctx.switchToHttp().getRequest<Request>().params[name];
    return typeof value === 'string' ? value : undefined;
  },
);
