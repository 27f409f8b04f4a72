import {
  checkServiceSchema,
  defaultConfig,
  MAX_SCHEMA_BYTES,
  validateConfig,
} from '@app/contracts';

/** A small but complete service schema, as a team would register it. */
function schemaFactory(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'billing-sync',
    type: 'object',
    additionalProperties: false,
    properties: {
      batch: {
        type: 'object',
        additionalProperties: false,
        properties: {
          size: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          min_size: { type: 'integer', minimum: 1, default: 10, 'x-not-greater-than': 'size' },
        },
      },
      token: { type: 'string', writeOnly: true, maxLength: 200, default: '' },
      regions: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['eu'] },
      limits: {
        type: 'object',
        additionalProperties: { $ref: '#/$defs/Limit' },
        default: {},
      },
    },
    $defs: {
      Limit: {
        type: 'object',
        additionalProperties: false,
        properties: { rate: { type: 'number', exclusiveMinimum: 0, default: 1 } },
      },
    },
    ...overrides,
  };
}

describe(checkServiceSchema.name, () => {
  const sut = (schema: unknown) => checkServiceSchema('billing-sync', 'Billing sync', schema);

  it('derives a definition: secret and map paths, defaults that make version 1', () => {
    const check = sut(schemaFactory());
    if (!check.ok) throw new Error(JSON.stringify(check.problems));
    expect(check.definition.secretPaths).toEqual(['token']);
    expect(check.definition.mapPaths).toEqual(['limits']);
    expect(defaultConfig(check.definition)).toEqual({
      batch: { size: 50, min_size: 10 },
      regions: ['eu'],
      limits: {},
    });
    expect(validateConfig(check.definition, { batch: { size: 5, min_size: 6 } })).toMatchObject({
      ok: false,
      issues: [{ path: 'batch.min_size' }],
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'a schema', /schema must be a JSON object/],
    ['no object at the root', { type: 'string' }, /must describe an object/],
    [
      'another dialect',
      schemaFactory({ $schema: 'http://json-schema.org/draft-07/schema#' }),
      /draft 2020-12/,
    ],
    [
      'an unsupported keyword, named',
      schemaFactory({ properties: { at: { type: 'string', format: 'date-time', default: '' } } }),
      /schema\.properties\.at\.format uses the unsupported keyword "format"/,
    ],
    [
      'a remote $ref',
      schemaFactory({ properties: { a: { $ref: 'https://example.com/s.json' } } }),
      /only local references/,
    ],
    [
      'a $ref to nothing',
      schemaFactory({ properties: { a: { $ref: '#/$defs/Nope' } } }),
      /points at nothing in \$defs/,
    ],
    [
      'a secret that is not a string',
      schemaFactory({ properties: { pin: { type: 'integer', writeOnly: true, default: 0 } } }),
      /secrets are strings/,
    ],
    [
      'a secret with a default value (the schema is published in clear)',
      schemaFactory({
        properties: { pin: { type: 'string', writeOnly: true, default: 'hunter2' } },
      }),
      /secret: the schema is published in clear/,
    ],
    [
      'a secret inside an array',
      schemaFactory({
        properties: { keys: { type: 'array', items: { type: 'string', writeOnly: true } } },
      }),
      /secrets live at fixed paths/,
    ],
    [
      'a dotted property name',
      schemaFactory({ properties: { 'a.b': { type: 'string', default: '' } } }),
      /names are 1 to 100 characters without "\."/,
    ],
    [
      'a default that fails its own schema',
      schemaFactory({ properties: { n: { type: 'integer', minimum: 5, default: 1 } } }),
      /defaults do not satisfy the schema: n must not be less than 5/,
    ],
    [
      'a pattern Ajv cannot compile',
      schemaFactory({ properties: { s: { type: 'string', pattern: '([', default: '' } } }),
      /does not compile/,
    ],
  ])('refuses %s, naming the problem', (_, schema, message) => {
    const check = sut(schema);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.map((p) => p.message).join('\n')).toMatch(message);
  });

  it('refuses a schema over the size limit as too large', () => {
    const huge = schemaFactory({ description: 'x'.repeat(MAX_SCHEMA_BYTES) });
    const check = sut(huge);
    expect(check).toMatchObject({ ok: false, tooLarge: true });
  });
});
