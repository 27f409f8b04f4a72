import { type JsonSchema, SUPPORTED_KEYWORDS, validateConfig } from '@app/contracts';
import { premise } from './vector-case';
import { definitionFromSchema, VECTOR_WORKER } from './vector-worker.schema';

/** One instance of a schema-validation case, with what validateConfig says of it. */
export interface ValidationInstance {
  description: string;
  value: unknown;
  valid: boolean;
  /** The dotted paths of the issues (sorted, unique), for an invalid value. */
  paths?: string[];
  /** For the `default` cases: the configuration with the defaults filled in. */
  config?: Record<string, unknown>;
}

/** One case of schema-validation.json. */
export interface ValidationVector {
  name: string;
  keyword: string;
  schema: JsonSchema;
  instances: ValidationInstance[];
}

interface InstanceSpec {
  readonly description: string;
  readonly value: unknown;
  /** The paths it is meant to be invalid at; absent when it is meant to be valid. */
  readonly invalidAt?: readonly string[];
}

interface CaseSpec {
  readonly name: string;
  readonly keyword: string;
  readonly schema: JsonSchema;
  readonly instances: readonly InstanceSpec[];
}

/** What validateConfig (the one engine of the manager and the SDK) says of `value`. */
export function validationOf(
  schema: JsonSchema,
  value: unknown,
): { valid: boolean; paths?: string[]; config?: Record<string, unknown> } {
  const result = validateConfig(definitionFromSchema(VECTOR_WORKER, schema), value);
  if (result.ok) return { valid: true, config: result.config };
  // The default sort compares UTF-16 code units, as the README says the paths are sorted.
  const paths = [...new Set(result.issues.map((issue) => issue.path))].sort();
  return { valid: false, paths };
}

/**
 * schema-validation.json: for every keyword of SUPPORTED_KEYWORDS with an effect on validation,
 * configuration documents and what validateConfig says of them: valid or not, and at which
 * paths. Lengths are counted in code points (an astral character is one, a combining mark or a
 * variation selector one more), patterns are ECMA-262 with the `u` flag, and `x-sum` is
 * inclusive at both ends.
 */
export function schemaValidationVectors(): Record<string, unknown> {
  const cases = schemaValidationCases().map((spec): ValidationVector => {
    premise(
      spec.keyword === 'default' || SUPPORTED_KEYWORDS.has(spec.keyword),
      `${spec.keyword} is a supported keyword`,
    );
    const instances = spec.instances.map((instance): ValidationInstance => {
      const result = validationOf(spec.schema, instance.value);
      const meant = instance.invalidAt === undefined ? 'valid' : JSON.stringify(instance.invalidAt);
      const said = result.valid ? 'valid' : JSON.stringify(result.paths);
      if (meant !== said) {
        throw new Error(
          `test vectors: schema-validation.json case ${spec.name} (${instance.description}) is meant to be ${meant}, but the code says ${said}`,
        );
      }
      return {
        description: instance.description,
        value: instance.value,
        valid: result.valid,
        ...(result.valid ? {} : { paths: result.paths }),
        ...(result.valid && spec.keyword === 'default' ? { config: result.config } : {}),
      };
    });
    return { name: spec.name, keyword: spec.keyword, schema: spec.schema, instances };
  });
  premise(new Set(cases.map((c) => c.name)).size === cases.length, 'case names are unique');
  return { cases };
}

/** A configuration schema: an object of these properties, nothing else. */
function objectOf(
  properties: Record<string, JsonSchema>,
  extra: Partial<JsonSchema> = {},
): JsonSchema {
  return { type: 'object', additionalProperties: false, properties, ...extra };
}

const valid = (description: string, value: unknown): InstanceSpec => ({ description, value });
const invalid = (description: string, value: unknown, ...invalidAt: string[]): InstanceSpec => ({
  description,
  value,
  invalidAt,
});

// Strings whose length differs by how one counts: code points are what JSON Schema counts.
const EMOJI = '\u{1F600}'; // 😀: one code point, two UTF-16 code units, four UTF-8 bytes
const E_COMBINING = 'e\u0301'; // é as e + COMBINING ACUTE ACCENT: two code points, one glyph
const E_PRECOMPOSED = '\u00e9'; // é as one code point
const HEART_EMOJI = '\u2764\uFE0F'; // ❤️: HEAVY BLACK HEART + VARIATION SELECTOR-16, two code points
const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'; // 👨‍👩‍👧: five code points joined by ZWJ
const FLAG_FR = '\u{1F1EB}\u{1F1F7}'; // 🇫🇷: two regional indicator code points

function schemaValidationCases(): CaseSpec[] {
  return [
    // type
    {
      name: 'type-integer',
      keyword: 'type',
      schema: objectOf({ n: { type: 'integer' } }),
      instances: [
        valid('an integer', { n: 3 }),
        valid('a negative integer', { n: -7 }),
        valid('1e300 has no fractional part: an integer', { n: 1e300 }),
        valid('an absent property (not required)', {}),
        invalid('a fraction', { n: 3.5 }, 'n'),
        invalid('a numeric string', { n: '3' }, 'n'),
        invalid('a boolean is not a number', { n: true }, 'n'),
        invalid('null', { n: null }, 'n'),
      ],
    },
    {
      name: 'type-number',
      keyword: 'type',
      schema: objectOf({ x: { type: 'number' } }),
      instances: [
        valid('a fraction', { x: 1.5 }),
        valid('zero', { x: 0 }),
        valid('a tiny negative number', { x: -1e-300 }),
        invalid('a numeric string', { x: '1.5' }, 'x'),
        invalid('false is not 0', { x: false }, 'x'),
        invalid('null', { x: null }, 'x'),
      ],
    },
    {
      name: 'type-string',
      keyword: 'type',
      schema: objectOf({ s: { type: 'string' } }),
      instances: [
        valid('the empty string', { s: '' }),
        valid('digits as text', { s: '1' }),
        invalid('a number', { s: 1 }, 's'),
        invalid('null', { s: null }, 's'),
        invalid('an array of a string', { s: ['a'] }, 's'),
      ],
    },
    {
      name: 'type-boolean',
      keyword: 'type',
      schema: objectOf({ b: { type: 'boolean' } }),
      instances: [
        valid('true', { b: true }),
        valid('false', { b: false }),
        invalid('0 is not false', { b: 0 }, 'b'),
        invalid('1 is not true', { b: 1 }, 'b'),
        invalid('the string "true"', { b: 'true' }, 'b'),
      ],
    },
    {
      name: 'type-array-and-object',
      keyword: 'type',
      schema: objectOf({ a: { type: 'array' }, o: { type: 'object' } }),
      instances: [
        valid('an empty array and an empty object', { a: [], o: {} }),
        valid('items and entries of any type', { a: [1, 'x', null], o: { k: [1] } }),
        invalid('an object for the array, an array for the object', { a: {}, o: [] }, 'a', 'o'),
        invalid('null for the object', { o: null }, 'o'),
      ],
    },
    {
      name: 'type-union-with-null',
      keyword: 'type',
      schema: objectOf({ v: { type: ['string', 'null'] } }),
      instances: [
        valid('null', { v: null }),
        valid('a string', { v: 'a' }),
        invalid('a number', { v: 0 }, 'v'),
      ],
    },
    {
      name: 'type-root-not-an-object',
      keyword: 'type',
      schema: objectOf({ n: { type: 'integer' } }),
      instances: [
        invalid('an array', [], ''),
        invalid('a string', 'n', ''),
        invalid('null', null, ''),
        invalid('a number', 5, ''),
      ],
    },
    // enum, const, anyOf
    {
      name: 'enum-strings',
      keyword: 'enum',
      schema: objectOf({ mode: { type: 'string', enum: ['fast', 'safe'] } }),
      instances: [
        valid('one of the values', { mode: 'fast' }),
        invalid('another case', { mode: 'FAST' }, 'mode'),
        invalid('a trailing space', { mode: 'fast ' }, 'mode'),
      ],
    },
    {
      name: 'enum-numbers',
      keyword: 'enum',
      schema: objectOf({ level: { enum: [0, 1, 2.5] } }),
      instances: [
        valid('0', { level: 0 }),
        valid('2.5', { level: 2.5 }),
        invalid('false is not 0', { level: false }, 'level'),
        invalid('true is not 1', { level: true }, 'level'),
        invalid('the string "1"', { level: '1' }, 'level'),
      ],
    },
    {
      name: 'enum-structured-values',
      keyword: 'enum',
      schema: objectOf({ v: { enum: [null, { a: 1 }, [1, 2]] } }),
      instances: [
        valid('null', { v: null }),
        valid('an equal object', { v: { a: 1 } }),
        valid('an equal array', { v: [1, 2] }),
        invalid('an object with one more key', { v: { a: 1, b: 2 } }, 'v'),
        invalid('the array in another order', { v: [2, 1] }, 'v'),
      ],
    },
    {
      name: 'const',
      keyword: 'const',
      schema: objectOf({ v: { const: 'on' }, z: { const: 0 } }),
      instances: [
        valid('both constants', { v: 'on', z: 0 }),
        invalid('another string', { v: 'off' }, 'v'),
        invalid('false is not 0', { z: false }, 'z'),
      ],
    },
    {
      name: 'any-of',
      keyword: 'anyOf',
      schema: objectOf({
        v: {
          anyOf: [
            { type: 'integer', minimum: 10 },
            { type: 'string', maxLength: 2 },
          ],
        },
      }),
      instances: [
        valid('the first branch', { v: 12 }),
        valid('the second branch', { v: 'ab' }),
        invalid('an integer below the first branch', { v: 5 }, 'v'),
        invalid('a string too long for the second', { v: 'abc' }, 'v'),
        invalid('neither type', { v: null }, 'v'),
      ],
    },
    {
      name: 'any-of-nullable-object',
      keyword: 'anyOf',
      schema: objectOf({
        o: {
          anyOf: [objectOf({ x: { type: 'integer' } }), { type: 'null' }],
          default: null,
        },
      }),
      instances: [
        valid('null', { o: null }),
        valid('the object', { o: { x: 1 } }),
        invalid('a property of the object branch has the wrong type', { o: { x: 'a' } }, 'o.x'),
        invalid('an unknown property of the object branch', { o: { y: 1 } }, 'o.y'),
        invalid('neither branch', { o: 3 }, 'o'),
      ],
    },
    // numbers
    {
      name: 'minimum-maximum-inclusive',
      keyword: 'minimum',
      schema: objectOf({ p: { type: 'number', minimum: 0, maximum: 1 } }),
      instances: [
        valid('the minimum itself', { p: 0 }),
        valid('the maximum itself', { p: 1 }),
        invalid('just below the minimum', { p: -0.0001 }, 'p'),
        invalid('a tiny negative number', { p: -1e-300 }, 'p'),
        invalid('just above the maximum', { p: 1.0001 }, 'p'),
      ],
    },
    {
      name: 'maximum',
      keyword: 'maximum',
      schema: objectOf({ t: { type: 'integer', maximum: 100 } }),
      instances: [valid('100', { t: 100 }), invalid('101', { t: 101 }, 't')],
    },
    {
      name: 'exclusive-minimum-maximum',
      keyword: 'exclusiveMinimum',
      schema: objectOf({ q: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 10 } }),
      instances: [
        valid('the smallest positive double (5e-324)', { q: 5e-324 }),
        valid('just below the exclusive maximum', { q: 9.999999 }),
        invalid('the exclusive minimum itself', { q: 0 }, 'q'),
        invalid('the exclusive maximum itself', { q: 10 }, 'q'),
      ],
    },
    {
      name: 'exclusive-maximum',
      keyword: 'exclusiveMaximum',
      schema: objectOf({ r: { type: 'number', exclusiveMaximum: 1 } }),
      instances: [valid('0.999', { r: 0.999 }), invalid('1', { r: 1 }, 'r')],
    },
    {
      name: 'multiple-of-integer',
      keyword: 'multipleOf',
      schema: objectOf({ m: { type: 'integer', multipleOf: 5 } }),
      instances: [
        valid('10', { m: 10 }),
        valid('0', { m: 0 }),
        valid('-15', { m: -15 }),
        invalid('12', { m: 12 }, 'm'),
      ],
    },
    {
      name: 'multiple-of-binary-fraction',
      keyword: 'multipleOf',
      schema: objectOf({ f: { type: 'number', multipleOf: 0.5 } }),
      instances: [valid('1.5', { f: 1.5 }), invalid('1.25', { f: 1.25 }, 'f')],
    },
    {
      name: 'multiple-of-decimal-fraction',
      keyword: 'multipleOf',
      schema: objectOf({ c: { type: 'number', multipleOf: 0.01 } }),
      instances: [
        valid('0.5 (0.5 / 0.01 is exactly 50 in binary floating point)', { c: 0.5 }),
        valid('1.1 (1.1 / 0.01 rounds to 110)', { c: 1.1 }),
        valid('0.07: 0.07 / 0.01 is 7.000000000000001 in doubles, within 1e-9 of 7', { c: 0.07 }),
        valid('19.99: 19.99 / 0.01 is 1998.9999999999998, within 1e-9 of 1999', { c: 19.99 }),
        invalid('0.075: 0.075 / 0.01 is 7.5', { c: 0.075 }, 'c'),
        invalid('0.0700001: 7.00001 is farther than 1e-9 from 7', { c: 0.0700001 }, 'c'),
      ],
    },
    // strings, counted in code points
    {
      name: 'min-length-code-points',
      keyword: 'minLength',
      schema: objectOf({ s: { type: 'string', minLength: 2 } }),
      instances: [
        valid('two ASCII characters', { s: 'ab' }),
        valid('two astral characters', { s: EMOJI + EMOJI }),
        valid('e + combining acute: two code points', { s: E_COMBINING }),
        valid('❤️ (U+2764 U+FE0F): two code points', { s: HEART_EMOJI }),
        invalid('one astral character, though two UTF-16 code units', { s: EMOJI }, 's'),
        invalid('precomposed é: one code point', { s: E_PRECOMPOSED }, 's'),
        invalid('the empty string', { s: '' }, 's'),
      ],
    },
    {
      name: 'max-length-code-points',
      keyword: 'maxLength',
      schema: objectOf({ s: { type: 'string', maxLength: 3 } }),
      instances: [
        valid('three ASCII characters', { s: 'abc' }),
        valid('three astral characters (six UTF-16 code units)', { s: EMOJI.repeat(3) }),
        valid('three precomposed é', { s: E_PRECOMPOSED.repeat(3) }),
        valid('🇫🇷: two regional indicators', { s: FLAG_FR }),
        invalid('four ASCII characters', { s: 'abcd' }, 's'),
        invalid('four astral characters', { s: EMOJI.repeat(4) }, 's'),
        invalid(
          'two glyphs of e + combining acute: four code points',
          { s: E_COMBINING + E_COMBINING },
          's',
        ),
        invalid(
          '❤️❤️: four code points (two variation selectors)',
          { s: HEART_EMOJI + HEART_EMOJI },
          's',
        ),
        invalid('👨‍👩‍👧: one glyph, five code points', { s: FAMILY }, 's'),
      ],
    },
    {
      name: 'pattern-code-points',
      keyword: 'pattern',
      schema: objectOf({ s: { type: 'string', pattern: '^.{3}$' } }),
      instances: [
        valid('three ASCII characters', { s: 'abc' }),
        valid('three astral characters: "." matches a code point', { s: EMOJI.repeat(3) }),
        valid('e + combining acute + e: three code points', { s: `${E_COMBINING}e` }),
        invalid('two precomposed é', { s: E_PRECOMPOSED.repeat(2) }, 's'),
        invalid('"." does not match a line feed', { s: 'ab\n' }, 's'),
      ],
    },
    {
      name: 'pattern-unanchored',
      keyword: 'pattern',
      schema: objectOf({ s: { type: 'string', pattern: 'b+' } }),
      instances: [
        valid('a pattern matches anywhere in the string (search, not match)', { s: 'abba' }),
        invalid('no b at all', { s: 'aca' }, 's'),
      ],
    },
    {
      name: 'pattern-ascii-classes',
      keyword: 'pattern',
      schema: objectOf({
        d: { type: 'string', pattern: '^\\d+$' },
        w: { type: 'string', pattern: '^\\w+$' },
      }),
      instances: [
        valid('ASCII digits and word characters', { d: '123', w: 'abc_1' }),
        invalid('Arabic-Indic digits: \\d is [0-9] only', { d: '\u0661\u0662\u0663' }, 'd'),
        invalid('fullwidth digits', { d: '\uFF11\uFF12\uFF13' }, 'd'),
        invalid('é: \\w is [A-Za-z0-9_] only', { w: `h${E_PRECOMPOSED}llo` }, 'w'),
      ],
    },
    {
      name: 'pattern-end-anchor',
      keyword: 'pattern',
      schema: objectOf({ s: { type: 'string', pattern: '^[a-z]+$' } }),
      instances: [
        valid('lower-case letters', { s: 'abc' }),
        invalid(
          '"$" matches only at the very end, not before a final line feed',
          { s: 'abc\n' },
          's',
        ),
        invalid('upper case: patterns are case-sensitive', { s: 'ABC' }, 's'),
      ],
    },
    // arrays
    {
      name: 'items',
      keyword: 'items',
      schema: objectOf({ list: { type: 'array', items: { type: 'integer', minimum: 0 } } }),
      instances: [
        valid('an empty array', { list: [] }),
        valid('integers in range', { list: [1, 2] }),
        invalid('the second item is a string', { list: [1, '2'] }, 'list.1'),
        invalid('two bad items, each at its index', { list: [1, -1, 'x'] }, 'list.1', 'list.2'),
      ],
    },
    {
      name: 'min-items',
      keyword: 'minItems',
      schema: objectOf({ l: { type: 'array', minItems: 1, maxItems: 2 } }),
      instances: [
        valid('one item', { l: [1] }),
        valid('two items', { l: [1, 2] }),
        invalid('no item', { l: [] }, 'l'),
      ],
    },
    {
      name: 'max-items',
      keyword: 'maxItems',
      schema: objectOf({ l: { type: 'array', maxItems: 2 } }),
      instances: [valid('two items', { l: [1, 2] }), invalid('three items', { l: [1, 2, 3] }, 'l')],
    },
    {
      name: 'unique-items',
      keyword: 'uniqueItems',
      schema: objectOf({ u: { type: 'array', uniqueItems: true } }),
      instances: [
        valid('distinct numbers', { u: [1, 2, 3] }),
        valid('strings differing in case', { u: ['a', 'A'] }),
        valid('1 and true differ', { u: [1, true] }),
        valid('0 and false differ', { u: [0, false] }),
        invalid('a repeated number', { u: [1, 2, 1] }, 'u'),
        invalid(
          'equal objects with keys in another order',
          {
            u: [
              { a: 1, b: 2 },
              { b: 2, a: 1 },
            ],
          },
          'u',
        ),
        invalid('equal nested arrays', { u: [[1], [1]] }, 'u'),
        invalid('two nulls', { u: [null, null] }, 'u'),
      ],
    },
    // objects
    {
      name: 'properties-nested',
      keyword: 'properties',
      schema: objectOf({
        inner: objectOf({ x: { type: 'integer' }, deep: objectOf({ y: { type: 'string' } }) }),
      }),
      instances: [
        valid('every level right', { inner: { x: 1, deep: { y: 'a' } } }),
        invalid('a nested property of the wrong type', { inner: { x: 'a' } }, 'inner.x'),
        invalid('two levels down', { inner: { deep: { y: 1 } } }, 'inner.deep.y'),
      ],
    },
    {
      name: 'required',
      keyword: 'required',
      schema: objectOf({
        rules: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string' }, weight: { type: 'number' } },
          },
        },
      }),
      instances: [
        valid('an item with its id', { rules: [{ id: 'a' }] }),
        invalid('an item without id', { rules: [{ weight: 1 }] }, 'rules.0.id'),
        invalid('the second item without id', { rules: [{ id: 'a' }, {}] }, 'rules.1.id'),
      ],
    },
    {
      name: 'additional-properties-false',
      keyword: 'additionalProperties',
      schema: objectOf({ a: { type: 'integer' } }),
      instances: [
        valid('the known property', { a: 1 }),
        invalid('an unknown property, named by its path', { a: 1, b: 2 }, 'b'),
        invalid('names are case-sensitive', { A: 1 }, 'A'),
      ],
    },
    {
      name: 'additional-properties-schema',
      keyword: 'additionalProperties',
      schema: objectOf({
        limits: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
      }),
      instances: [
        valid('an empty map', { limits: {} }),
        valid('entries that match', { limits: { x: 1, y: 2 } }),
        invalid('an entry out of range', { limits: { x: -1 } }, 'limits.x'),
        invalid('an entry of the wrong type', { limits: { y: 1, x: 'a' } }, 'limits.x'),
      ],
    },
    {
      name: 'property-names-pattern',
      keyword: 'propertyNames',
      schema: objectOf({
        flags: {
          type: 'object',
          propertyNames: { pattern: '^[a-z][a-z0-9-]*$', maxLength: 3 },
          additionalProperties: { type: 'boolean' },
        },
      }),
      instances: [
        valid('a matching key', { flags: { abc: true } }),
        invalid(
          'a key with an upper-case letter, named by its path',
          { flags: { Abc: true } },
          'flags.Abc',
        ),
        invalid('a key too long', { flags: { abcd: true } }, 'flags.abcd'),
      ],
    },
    {
      name: 'property-names-code-points',
      keyword: 'propertyNames',
      schema: objectOf({
        names: {
          type: 'object',
          propertyNames: { maxLength: 2 },
          additionalProperties: { type: 'integer' },
        },
      }),
      instances: [
        valid('a key of two astral characters', { names: { [EMOJI + EMOJI]: 1 } }),
        valid('❤️ as a key: two code points', { names: { [HEART_EMOJI]: 1 } }),
        invalid(
          'e + combining acute + e: three code points',
          { names: { [`${E_COMBINING}e`]: 1 } },
          `names.${E_COMBINING}e`,
        ),
        invalid('one good key, one too long', { names: { ab: 1, abc: 2 } }, 'names.abc'),
      ],
    },
    {
      name: 'min-max-properties',
      keyword: 'minProperties',
      schema: objectOf({
        m: {
          type: 'object',
          minProperties: 1,
          maxProperties: 2,
          additionalProperties: { type: 'integer' },
        },
      }),
      instances: [
        valid('one entry', { m: { a: 1 } }),
        valid('an absent map (not required)', {}),
        invalid('no entry', { m: {} }, 'm'),
        invalid('three entries', { m: { a: 1, b: 2, c: 3 } }, 'm'),
      ],
    },
    {
      name: 'max-properties',
      keyword: 'maxProperties',
      schema: objectOf({
        m: { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } },
      }),
      instances: [
        valid('one entry', { m: { a: 'x' } }),
        invalid('two entries', { m: { a: 'x', b: 'y' } }, 'm'),
      ],
    },
    // references
    {
      name: 'ref-to-defs',
      keyword: '$ref',
      schema: objectOf(
        {
          w: { $ref: '#/$defs/Weight' },
          v: { $ref: '#/$defs/Weight', default: 0.5 },
        },
        { $defs: { Weight: { type: 'number', minimum: 0, maximum: 1 } } },
      ),
      instances: [
        valid('in range', { w: 0.5 }),
        invalid('out of the referenced range', { w: 2 }, 'w'),
        invalid('a second reference to the same definition', { v: -1 }, 'v'),
      ],
    },
    // the contract's extension keywords
    {
      name: 'x-sum-tolerance',
      keyword: 'x-sum',
      schema: objectOf({
        weights: objectOf(
          {
            a: { type: 'number', default: 0.5 },
            b: { type: 'number', default: 0.5 },
          },
          { 'x-sum': { equals: 1, tolerance: 0.001 } },
        ),
      }),
      instances: [
        valid('exactly 1', { weights: { a: 0.5, b: 0.5 } }),
        valid('0.999: the lower end of the tolerance, inclusive', {
          weights: { a: 0.5, b: 0.499 },
        }),
        valid('1.001: the upper end, inclusive', { weights: { a: 0.5, b: 0.501 } }),
        invalid('0.9989: just below the tolerance', { weights: { a: 0.5, b: 0.4989 } }, 'weights'),
        invalid('1.0011: just above', { weights: { a: 0.5, b: 0.5011 } }, 'weights'),
        invalid(
          '1.5: an omitted property counts with its default (0.5)',
          { weights: { a: 1 } },
          'weights',
        ),
      ],
    },
    {
      name: 'x-sum-exact',
      keyword: 'x-sum',
      schema: objectOf({
        split: objectOf(
          {
            x: { type: 'number', default: 60 },
            y: { type: 'number', default: 40 },
            note: { type: 'string', default: '' },
          },
          { 'x-sum': { equals: 100, tolerance: 0 } },
        ),
      }),
      instances: [
        valid('exactly 100; the string property is not summed', {
          split: { x: 60, y: 40, note: '5' },
        }),
        valid('off by 1e-10: within the 1e-9 slack for floating-point rounding', {
          split: { x: 60, y: 40.0000000001 },
        }),
        invalid('off by 1e-6', { split: { x: 60, y: 40.000001 } }, 'split'),
        invalid(
          'a property of the wrong type is reported, not the sum',
          { split: { x: '60', y: 40 } },
          'split.x',
        ),
      ],
    },
    {
      name: 'x-not-greater-than',
      keyword: 'x-not-greater-than',
      schema: objectOf({
        soft: { type: 'number', 'x-not-greater-than': 'hard' },
        hard: { type: 'number' },
      }),
      instances: [
        valid('less', { soft: 1, hard: 2 }),
        valid('equal', { soft: 2, hard: 2 }),
        valid('no sibling to compare with', { soft: 5 }),
        invalid(
          'greater, reported at the property that carries the keyword',
          { soft: 2.0001, hard: 2 },
          'soft',
        ),
        invalid(
          'a sibling of the wrong type is reported by its own type',
          { soft: 5, hard: 'x' },
          'hard',
        ),
      ],
    },
    {
      name: 'x-not-less-than',
      keyword: 'x-not-less-than',
      schema: objectOf({
        high: { type: 'number', 'x-not-less-than': 'low' },
        low: { type: 'number' },
      }),
      instances: [
        valid('equal', { high: 0.5, low: 0.5 }),
        valid('greater', { high: 1, low: 0 }),
        invalid('less', { high: 0.4, low: 0.5 }, 'high'),
      ],
    },
    {
      name: 'write-only-secret',
      keyword: 'writeOnly',
      schema: objectOf({
        api: objectOf({
          url: { type: 'string', default: 'https://api.example' },
          key: { type: 'string', writeOnly: true, default: '' },
        }),
      }),
      instances: [
        valid('no secret in the document', { api: { url: 'https://x.example' } }),
        invalid(
          'a secret value in the plain configuration',
          { api: { key: 'sk-live' } },
          'api.key',
        ),
        invalid('even an empty one', { api: { key: '' } }, 'api.key'),
      ],
    },
    // defaults
    {
      name: 'defaults-filled',
      keyword: 'default',
      schema: objectOf({
        batch: { type: 'integer', default: 50 },
        mode: { type: 'string', default: 'safe' },
        nested: objectOf({ depth: { type: 'integer', default: 2 }, name: { type: 'string' } }),
        list: { type: 'array', items: { type: 'integer' }, default: [1, 2] },
        maybe: {
          anyOf: [objectOf({ x: { type: 'integer', default: 1 } }), { type: 'null' }],
          default: null,
        },
        map: {
          type: 'object',
          additionalProperties: objectOf({ w: { type: 'number', default: 1 } }),
        },
        plain: { type: 'string' },
      }),
      instances: [
        valid(
          'the empty document: every default, an omitted object gets its own properties’ defaults, a property without default stays absent',
          {},
        ),
        valid('given values are kept, the rest filled in', { batch: 7, nested: { name: 'n' } }),
        valid('a nullable object given as {} gets its defaults', { maybe: {} }),
        valid('map entries get their defaults', { map: { b: {}, a: { w: 3 } } }),
        valid('a given empty array is kept', { list: [] }),
        invalid('null is a value, not an omission', { batch: null }, 'batch'),
      ],
    },
  ];
}
