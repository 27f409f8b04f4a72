import fc from 'fast-check';
import {
  checkServiceSchema,
  findServiceDefinition,
  MAX_SCHEMA_BYTES as MANAGER_MAX_SCHEMA_BYTES,
  SCHEMA_DIALECT as MANAGER_SCHEMA_DIALECT,
  SERVICE_NAME_PATTERN as MANAGER_SERVICE_NAME_PATTERN,
  SUPPORTED_KEYWORDS as MANAGER_SUPPORTED_KEYWORDS,
} from '@app/contracts';
import {
  MAX_SCHEMA_BYTES,
  precheckSchema,
  SCHEMA_DIALECT,
  SERVICE_NAME_PATTERN,
  serviceNameProblem,
  SUPPORTED_KEYWORDS,
} from './schema-precheck';

type Node = Record<string, unknown>;

/** What the manager says about a schema: its problems ([] when it accepts it). */
function manager(document: unknown) {
  const check = checkServiceSchema('billing-worker', '', document);
  return check.ok ? { problems: [], tooLarge: false } : check;
}

const valid = (): Node => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    batch_size: { type: 'integer', title: 'Batch size', minimum: 1, maximum: 500, default: 50 },
    limits: {
      type: 'object',
      properties: {
        soft: { type: 'number', minimum: 0, 'x-not-greater-than': 'hard', default: 100 },
        hard: { type: 'number', minimum: 0, default: 200 },
      },
      default: {},
    },
    gateway: {
      type: 'object',
      properties: { token: { type: 'string', writeOnly: true, default: '' } },
      default: {},
    },
  },
});

describe('the admin page and the manager agree on a schema', () => {
  it('share the keywords, the dialect, the size limit and the service name pattern', () => {
    expect([...SUPPORTED_KEYWORDS].sort()).toEqual([...MANAGER_SUPPORTED_KEYWORDS].sort());
    expect(SCHEMA_DIALECT).toBe(MANAGER_SCHEMA_DIALECT);
    expect(MAX_SCHEMA_BYTES).toBe(MANAGER_MAX_SCHEMA_BYTES);
    expect(SERVICE_NAME_PATTERN.source).toBe(MANAGER_SERVICE_NAME_PATTERN.source);
    expect(serviceNameProblem('billing-worker')).toBeUndefined();
    expect(serviceNameProblem('Billing worker')).toMatch(/lowercase letters/);
  });

  it('finds nothing in schemas the manager accepts, dedup-worker’s included', () => {
    const dedup = findServiceDefinition('dedup-worker')!.jsonSchema;
    for (const document of [valid(), dedup]) {
      expect(manager(document).problems).toEqual([]);
      expect(precheckSchema(document)).toEqual({ problems: [], tooLarge: false });
    }
  });

  const broken: [string, (schema: Node) => unknown][] = [
    ['an unsupported keyword', (s) => at(s, 'properties.batch_size', { format: 'int32' })],
    ['a JSON array', () => []],
    ['another dialect', (s) => ({ ...s, $schema: 'http://json-schema.org/draft-07/schema#' })],
    ['a root that is no object', (s) => ({ ...s, type: 'array' })],
    ['a remote $ref', (s) => at(s, 'properties.limits', { $ref: 'https://x.example/s.json' })],
    ['a $ref to nothing', (s) => at(s, 'properties.limits', { $ref: '#/$defs/Limits' })],
    ['a dotted property name', (s) => at(s, 'properties', { 'a.b': { type: 'string' } })],
    ['a constructor property', (s) => at(s, 'properties', { constructor: { type: 'string' } })],
    ['a number secret', (s) => at(s, 'properties.batch_size', { writeOnly: true })],
    ['a secret default', (s) => at(s, 'properties.gateway.properties.token', { default: 'x' })],
    ['x-secret alone', (s) => at(s, 'properties.limits.properties.soft', { 'x-secret': true })],
    [
      'a secret in a list',
      (s) =>
        at(s, 'properties', {
          keys: { type: 'array', items: { type: 'string', writeOnly: true } },
        }),
    ],
    ['a bad x-sum', (s) => at(s, 'properties.limits', { 'x-sum': { equals: 1 } })],
    [
      'x-sum on a number',
      (s) => at(s, 'properties.batch_size', { 'x-sum': { equals: 1, tolerance: 0 } }),
    ],
    [
      'x-not-less-than on text',
      (s) => at(s, 'properties', { t: { type: 'string', 'x-not-less-than': 'u' } }),
    ],
    ['a schema that is a number', (s) => at(s, 'properties', { n: 5 })],
    ['anyOf that is no list', (s) => at(s, 'properties.batch_size', { anyOf: { type: 'null' } })],
    ['nesting deeper than 32', (s) => at(s, 'properties', { deep: nested(34) })],
    ['many problems', (s) => at(s, 'properties', many(60))],
    ['more than 160 KiB', (s) => ({ ...s, description: 'x'.repeat(MAX_SCHEMA_BYTES) })],
  ];

  it.each(broken)('names the same problems as the manager for %s', (_, breakIt) => {
    const document = breakIt(valid());
    const expected = manager(document);
    expect(expected.problems.length).toBeGreaterThan(0);
    expect(precheckSchema(document)).toEqual({
      problems: expected.problems,
      tooLarge: expected.tooLarge,
    });
  });

  it('names an unsupported keyword at its path, as the manager does', () => {
    const document = at(valid(), 'properties', { x: { type: 'string', format: 'email' } });
    expect(precheckSchema(document).problems).toEqual([
      {
        path: 'schema.properties.x.format',
        message: 'schema.properties.x.format uses the unsupported keyword "format"',
      },
    ]);
  });

  it('leaves Ajv’s checks to the manager: bad defaults and meta-schema problems', () => {
    const badDefault = at(valid(), 'properties.batch_size', { default: 0 });
    expect(manager(badDefault).problems.map((p) => p.path)).toEqual(['default.batch_size']);
    expect(precheckSchema(badDefault).problems).toEqual([]);
    const badType = at(valid(), 'properties.batch_size', { type: 'int' });
    expect(manager(badType).problems.length).toBeGreaterThan(0);
    expect(precheckSchema(badType).problems).toEqual([]);
  });

  // The manager compiles each generated schema with Ajv: more than the 5 s default under load.
  it('agrees on generated schemas, with and without a structural fault', () => {
    fc.assert(
      fc.property(schemas, fc.option(faults, { nil: undefined }), fc.nat(), (tree, fault, pick) => {
        const document = copyOf(tree);
        if (fault !== undefined) {
          const nodes = schemaNodes(document);
          Object.assign(nodes[pick % nodes.length], fault);
        }
        const expected = manager(document);
        if (fault === undefined) expect(expected.problems).toEqual([]);
        else expect(expected.problems.length).toBeGreaterThan(0);
        expect(precheckSchema(document).problems).toEqual(expected.problems);
      }),
      { numRuns: 100 },
    );
  }, 20_000);
});

/** A deep copy; structuredClone would make objects of another realm under Jest (not plain). */
function copyOf(node: Node): Node {
  return JSON.parse(JSON.stringify(node)) as Node;
}

/** A copy of `schema` with `patch` merged into the object at the dotted path. */
function at(schema: Node, path: string, patch: Node): Node {
  const copy = copyOf(schema);
  let node: Node = copy;
  for (const key of path.split('.')) node = node[key] as Node;
  Object.assign(node, patch);
  return copy;
}

function nested(depth: number): Node {
  return depth === 0 ? { type: 'string' } : { type: 'array', items: nested(depth - 1) };
}

function many(count: number): Node {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`p${i}`, { type: 'string', format: 'uri' }]),
  );
}

/** Every schema object of a document generated below: the root, properties and items. */
function schemaNodes(node: Node): Node[] {
  const children = [
    ...Object.values((node.properties as Record<string, Node> | undefined) ?? {}),
    ...(node.items === undefined ? [] : [node.items as Node]),
  ];
  return [node, ...children.flatMap(schemaNodes)];
}

const names = fc.constantFrom('a', 'b', 'batch_size', 'limits', 'x1', 'ü');
const leaves: fc.Arbitrary<Node> = fc.oneof(
  fc.constant({ type: 'integer', minimum: 0, maximum: 10, default: 5 }),
  fc.constant({ type: 'number', exclusiveMinimum: 0, default: 1.5 }),
  fc.constant({ type: 'string', maxLength: 20, pattern: '^[a-z]*$', default: 'abc' }),
  fc.constant({ type: 'boolean', default: true, description: 'on or off' }),
  fc.constant({ type: 'string', enum: ['a', 'b'], default: 'a', title: 'Choice' }),
  fc.constant({ type: 'array', items: { type: 'string' }, maxItems: 5, default: [] }),
  fc.constant({ type: 'string', writeOnly: true, default: '' }),
);
const { schema: objects } = fc.letrec<{ schema: Node; node: Node }>((tie) => ({
  schema: fc.dictionary(names, tie('node'), { minKeys: 1, maxKeys: 3 }).map((properties) => ({
    type: 'object',
    properties,
    additionalProperties: false,
    default: {},
  })),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaves, tie('schema')),
}));
const schemas = objects.map(({ default: _, ...root }) => root);

/** Structural faults the manager's first checks find wherever they are put. */
const faults: fc.Arbitrary<Node> = fc.oneof(
  fc.constantFrom<Node>(
    { format: 'email' },
    { oneOf: [] },
    { if: {} },
    { $ref: '#/definitions/Thing' },
    { $ref: '#/$defs/Missing' },
    { 'x-secret': true, writeOnly: false },
    { 'x-sum': { equals: 1, tolerance: -1 } },
    { 'x-not-greater-than': '' },
    { anyOf: 'nothing' },
    { properties: [] },
    { items: 7 },
  ),
  fc.record({
    properties: fc.dictionary(
      fc.constantFrom('a.b', '__proto__', 'prototype', ''),
      fc.constant({ type: 'string' }),
      { minKeys: 1, maxKeys: 1 },
    ),
  }),
);
