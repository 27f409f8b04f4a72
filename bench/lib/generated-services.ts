import type { JsonSchema } from '@app/contracts';

/** A service schema made for the bench, and what the bench changes in its config. */
export interface GeneratedService {
  name: string;
  description: string;
  schema: JsonSchema;
  /** Leaf keys the schema declares (the map and the secret count as one each). */
  keys: number;
  /** Two PATCH bodies that each change one integer, to alternate between. */
  patches: [Record<string, unknown>, Record<string, unknown>];
}

const SECTIONS = 20;
const MODES = ['fast', 'safe', 'eu-west', 'us-east'];

/**
 * The `index`-th service of `keys` leaves (a multiple of 10, at least 30), always the same:
 * sections of ten fields (integers with ranges, strings with a maxLength, enums, booleans,
 * numbers in [0, 1]), every fourth section with a nested `advanced` group and every eighth a
 * third level below it, a pair of limits tied by `x-not-greater-than`, one map of entries and
 * one `writeOnly` secret, each field with a description (as a real schema would have).
 */
export function generatedService(index: number, keys = 200): GeneratedService {
  const name = `bench-svc-${String(index).padStart(2, '0')}`;
  const perSection = keys / SECTIONS;
  const properties: Record<string, JsonSchema> = {};
  for (let s = 0; s < SECTIONS; s++) {
    const fields: [string, JsonSchema][] = [];
    for (let f = 0; f < perSection; f++) {
      const k = s * perSection + f;
      fields.push(special(name, k) ?? leaf(name, k));
    }
    properties[`section_${String(s).padStart(2, '0')}`] = section(s, fields);
  }
  return {
    name,
    description: `Generated for the services bench: ${keys} keys in ${SECTIONS} sections`,
    schema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      additionalProperties: false,
      properties,
    },
    keys,
    patches: [{ section_00: { retries_5: 4 } }, { section_00: { retries_5: 3 } }],
  };
}

// The fields that are not plain leaves, at fixed places of the first sections.
function special(service: string, k: number): [string, JsonSchema] | undefined {
  switch (k) {
    case 0:
      return [
        'limits_soft',
        {
          type: 'integer',
          description: 'Soft limit: warn above it (at most the hard limit)',
          minimum: 0,
          maximum: 100000,
          'x-not-greater-than': 'limits_hard',
          default: 100,
        },
      ];
    case 1:
      return [
        'limits_hard',
        {
          type: 'integer',
          description: 'Hard limit: refuse above it',
          minimum: 0,
          maximum: 100000,
          default: 200,
        },
      ];
    case 5:
      return [
        'retries_5',
        {
          type: 'integer',
          description: 'Retries of a failed call',
          minimum: 0,
          maximum: 10,
          default: 3,
        },
      ];
    case 12:
      return [
        'api_key',
        {
          type: 'string',
          description: `Key of ${service}'s upstream API`,
          writeOnly: true,
          maxLength: 200,
          default: '',
        },
      ];
    case 23:
      return [
        'overrides',
        {
          type: 'object',
          description: 'Per-tenant overrides',
          maxProperties: 50,
          propertyNames: { maxLength: 40 },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['weight'],
            properties: {
              weight: { type: 'number', minimum: 0, maximum: 1 },
              enabled: { type: 'boolean', default: true },
            },
          },
          default: {
            alpha: { weight: 0.5, enabled: true },
            beta: { weight: 0.25, enabled: false },
          },
        },
      ];
    default:
      return undefined;
  }
}

function leaf(service: string, k: number): [string, JsonSchema] {
  const description = `Field ${k} of ${service}`;
  switch (k % 6) {
    case 0:
      return [
        `timeout_ms_${k}`,
        { type: 'integer', description, minimum: 1, maximum: 600000, default: 1000 + k },
      ];
    case 1:
      return [
        `endpoint_${k}`,
        {
          type: 'string',
          description,
          maxLength: 200,
          default: `https://${service}.example/api/${k}`,
        },
      ];
    case 2:
      return [`mode_${k}`, { type: 'string', description, enum: MODES, default: MODES[k % 4] }];
    case 3:
      return [`enabled_${k}`, { type: 'boolean', description, default: k % 2 === 1 }];
    case 4:
      return [
        `threshold_${k}`,
        { type: 'number', description, minimum: 0, maximum: 1, default: (k % 100) / 100 },
      ];
    default:
      return [
        `retries_${k}`,
        { type: 'integer', description, minimum: 0, maximum: 10, default: k % 10 },
      ];
  }
}

// A section: its fields, the last four in `advanced` every fourth section (two of those one
// level deeper every eighth).
function section(s: number, fields: [string, JsonSchema][]): JsonSchema {
  const object = (entries: [string, JsonSchema][], description: string): JsonSchema => ({
    type: 'object',
    description,
    additionalProperties: false,
    properties: Object.fromEntries(entries),
    default: {},
  });
  if (s % 4 !== 1) return object(fields, `Section ${s}`);
  const top = fields.slice(0, -4);
  const advanced = fields.slice(-4);
  const nested =
    s % 8 === 1
      ? [...advanced.slice(0, 2), ['tuning', object(advanced.slice(2), 'Fine tuning')] as const]
      : advanced;
  return object(
    [...top, ['advanced', object(nested as [string, JsonSchema][], 'Advanced settings')]],
    `Section ${s}`,
  );
}
