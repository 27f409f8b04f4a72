import type Ajv from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types';
import type { InvariantSum } from '../schema/config-field.decorators';
import { isWithinSum, sumOfNumbers } from '../schema/cross-field.validators';

/** The extension keywords of the published schemas (see {@link addExtensionKeywords}). */
export const EXTENSION_KEYWORDS = [
  'x-sum',
  'x-not-greater-than',
  'x-not-less-than',
  'x-secret',
] as const;

/**
 * Teaches an Ajv instance the contract's JSON Schema extension keywords (a standard validator
 * ignores them; a worker that validates with the published schema must implement them):
 *
 * - `x-sum: { equals, tolerance }` on an object: its finite-number properties add up to
 *   `equals` within `tolerance`, inclusive at both ends, with an absolute slack of 1e-9 for
 *   floating-point rounding ({@link isWithinSum}).
 * - `x-not-greater-than: "<sibling>"` / `x-not-less-than: "<sibling>"` on a number: compared
 *   with that sibling property of the same object, when both are finite numbers.
 * - `x-secret: true` (beside `writeOnly: true`): an annotation; the path never carries a value.
 *
 * `checkValues: false` leaves out the check of each keyword's own value (`x-sum`'s shape) for an
 * engine that only compiles schemas already checked (validate-config.ts): Ajv compiles that check
 * as a schema of its own in every engine.
 */
export function addExtensionKeywords<T extends Ajv>(
  ajv: T,
  { checkValues = true }: { checkValues?: boolean } = {},
): T {
  ajv.addKeyword({
    keyword: 'x-sum',
    type: 'object',
    schemaType: 'object',
    metaSchema: checkValues
      ? {
          type: 'object',
          properties: { equals: { type: 'number' }, tolerance: { type: 'number', minimum: 0 } },
          required: ['equals', 'tolerance'],
          additionalProperties: false,
        }
      : undefined,
    errors: false,
    validate: (sum: InvariantSum, data: object) => isWithinSum(sumOfNumbers(data), sum),
  });
  const comparisons = [
    ['x-not-greater-than', (value: number, other: number) => value <= other],
    ['x-not-less-than', (value: number, other: number) => value >= other],
  ] as const;
  for (const [keyword, holds] of comparisons) {
    ajv.addKeyword({
      keyword,
      type: 'number',
      schemaType: 'string',
      errors: false,
      validate: (
        sibling: string,
        value: number,
        _parentSchema?: unknown,
        context?: DataValidationCxt,
      ) => {
        const parent: Record<string, unknown> | undefined = context?.parentData;
        const other = parent?.[sibling];
        // A non-number on either side is reported by that property's own type check.
        return typeof other !== 'number' || !Number.isFinite(other) || holds(value, other);
      },
    });
  }
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  return ajv;
}
