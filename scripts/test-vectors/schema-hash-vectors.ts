import { canonicalJson, schemaHashOf } from '@app/contracts';
import { premise } from './vector-case';
import { vectorWorkerSchema } from './vector-worker.schema';

/** One case of schema-hash.json. */
export interface SchemaHashVector {
  name: string;
  description: string;
  /** When present: the schema as JSON text, with spellings `schema` cannot keep (1.0, 1E21). */
  text?: string;
  schema: Record<string, unknown>;
  canonical: string;
  schemaHash: string;
}

interface CaseSpec {
  readonly name: string;
  readonly description: string;
  readonly schema?: Record<string, unknown>;
  readonly text?: string;
}

/**
 * schema-hash.json: schemas with their canonical JSON (keys sorted recursively by UTF-16 code
 * units, no whitespace, strings and numbers as JSON.stringify writes them) and the schemaHash
 * the manager publishes (`sha256:` + hex SHA-256 of those UTF-8 bytes), from the real
 * canonicalJson and schemaHashOf.
 */
export function schemaHashVectors(): Record<string, unknown> {
  const cases = schemaHashCases().map((spec): SchemaHashVector => {
    const schema =
      spec.text === undefined ? spec.schema : (JSON.parse(spec.text) as Record<string, unknown>);
    premise(schema !== undefined, `case ${spec.name} has a schema or a text`);
    const value = schema as Record<string, unknown>;
    return {
      name: spec.name,
      description: spec.description,
      ...(spec.text === undefined ? {} : { text: spec.text }),
      schema: value,
      canonical: canonicalJson(value),
      schemaHash: schemaHashOf(value),
    };
  });
  premise(new Set(cases.map((c) => c.name)).size === cases.length, 'case names are unique');
  return { cases };
}

function schemaHashCases(): CaseSpec[] {
  return [
    {
      name: 'vector-worker',
      description:
        'The schema of config-envelopes.json; its hash is the schemaHash of those payloads.',
      schema: vectorWorkerSchema() as Record<string, unknown>,
    },
    {
      name: 'key-order',
      description: 'Keys written out of order at every level: the canonical form sorts them.',
      schema: {
        type: 'object',
        properties: {
          zeta: { type: 'integer', minimum: 1, default: 3 },
          alpha: { type: 'string', default: 'a' },
          Beta: { type: 'boolean', default: true },
        },
        additionalProperties: false,
      },
    },
    {
      name: 'nested-objects-and-arrays',
      description:
        'Objects inside arrays inside objects: keys sorted at every depth, arrays kept in their order, empty objects and arrays, null and booleans.',
      schema: {
        type: 'object',
        properties: {
          rules: {
            type: 'array',
            items: {
              type: 'object',
              required: ['z', 'a'],
              properties: { z: { type: 'string' }, a: { enum: [3, 1, 2, null, true, false] } },
            },
            default: [],
          },
          empty: { type: 'object', properties: {}, default: {} },
        },
      },
    },
    {
      name: 'unicode-keys',
      description:
        'Keys sorted by UTF-16 code units, not code points nor locale: "Z" < "_" < "a" < "é" < "😀" (U+1F600, surrogates D83D DE00) < "ﬁ" (U+FB01); by code point ﬁ would come before 😀.',
      schema: {
        type: 'object',
        properties: {
          '\uFB01': { type: 'string' },
          '\u{1F600}': { type: 'string' },
          '\u00e9': { type: 'string' },
          a: { type: 'string' },
          Z: { type: 'string' },
          _: { type: 'string' },
        },
      },
    },
    {
      name: 'integer-like-keys',
      description:
        'Keys that look like integers ("9", "10", "01", "-1", "1.5", "4294967294", "4294967295") sort by UTF-16 code units like every other key ("-1" < "01" < "1.5" < "10" < "4294967294" < "4294967295" < "9" < "a"), not first in numeric order as a JavaScript object lists them.',
      schema: {
        type: 'object',
        properties: {
          a: { type: 'string' },
          '01': { type: 'string' },
          '10': { type: 'string' },
          '9': { type: 'string' },
          '-1': { type: 'string' },
          '1.5': { type: 'string' },
          '4294967294': { type: 'string' },
          '4294967295': { type: 'string' },
        },
      },
    },
    {
      name: 'strings-escaped',
      description:
        'Strings as JSON.stringify writes them: " and \\ escaped, \\b \\f \\n \\r \\t as such, other control characters as \\u00XX (lower-case hex), "/" and DEL and U+2028 and every non-ASCII character as themselves (UTF-8), not \\u-escaped.',
      schema: {
        type: 'object',
        description:
          'quote " backslash \\ slash / \b\f\n\r\t \u0000 \u001f \u007f \u2028 é 😀 </script>',
        properties: {},
      },
    },
    {
      name: 'numbers',
      description:
        'Numbers as JSON.stringify writes them (ECMAScript Number::toString): 1e21 as 1e+21, 1e-7 as 1e-7, 1.5e-7 as 1.5e-7, 1e20 in full, 0.1 + 0.2 as 0.30000000000000004, the extremes of doubles.',
      schema: {
        type: 'object',
        examples: [
          1e21,
          1e20,
          1e-7,
          1.5e-7,
          0.000001,
          0.1 + 0.2,
          123456789.12345679,
          5e-324,
          1.7976931348623157e308,
          -42,
          2 ** 53,
        ],
        properties: {},
      },
    },
    {
      name: 'numbers-as-written',
      description:
        'The schema as JSON text with numbers spelled 1.0, -0.0, 1E21, 2.50, 100e-2 and 9007199254740993: parsed as IEEE-754 doubles (1, 0, 1e+21, 2.5, 1, 9007199254740992) before the canonical form is written. A consumer hashes the parsed value, never the text.',
      text: '{"type":"object","properties":{"ratio":{"type":"number","minimum":-0.0,"maximum":1.0,"default":1.0}},"examples":[1E21,2.50,100e-2,9007199254740993]}',
    },
  ];
}
