import {
  buildJsonSchema,
  DEDUP_WORKER_SERVICE,
  defaultConfig,
  Describe,
  findServiceDefinition,
  MatchingConfig,
  codePointLength,
  MaxCodePoints,
  TITLE_STRATEGIES,
  validateConfig,
  type JsonSchema,
  type JsonValue,
  type ServiceDefinition,
} from '@app/contracts';
import { IsIn, IsNumber, IsString, Max, MaxLength, Min } from 'class-validator';

function dedupWorker(): ServiceDefinition {
  const definition = findServiceDefinition(DEDUP_WORKER_SERVICE);
  if (definition === undefined) {
    throw new Error('dedup-worker is not registered');
  }
  return definition;
}

function buildSut(): JsonSchema {
  return buildJsonSchema({ name: 'dedup-worker', description: 'test', schema: MatchingConfig });
}

function def(schema: JsonSchema, name: string): JsonSchema {
  const found = schema.$defs?.[name];
  if (found === undefined) {
    throw new Error(`no $defs/${name}`);
  }
  return found;
}

function prop(schema: JsonSchema, name: string): JsonSchema {
  const found = schema.properties?.[name];
  if (found === undefined) {
    throw new Error(`no property ${name}`);
  }
  return found;
}

/** Resolves `#/$defs/X` references against the root, failing on any reference that leads nowhere. */
function resolve(root: JsonSchema, schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) {
    return schema;
  }
  const match = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
  if (match === null) {
    throw new Error(`unsupported $ref ${schema.$ref}`);
  }
  return { ...def(root, match[1]), ...schema, $ref: undefined };
}

/** A small checker for the keywords the generator emits, to prove each default satisfies its own schema. */
function violations(
  root: JsonSchema,
  schema: JsonSchema,
  value: JsonValue,
  path: string,
): string[] {
  const resolved = resolve(root, schema);
  if (resolved.anyOf !== undefined) {
    const fits = resolved.anyOf.some(
      (option) => violations(root, option, value, path).length === 0,
    );
    return fits ? [] : [`${path}: matches no anyOf option`];
  }
  const problems: string[] = [];
  const type = resolved.type;
  const actual =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : typeof value === 'object'
          ? 'object'
          : typeof value;
  if (type === 'integer' ? !Number.isInteger(value) : type !== undefined && type !== actual) {
    problems.push(`${path}: expected ${String(type)}, got ${actual}`);
  }
  if (typeof value === 'number') {
    if (resolved.minimum !== undefined && value < resolved.minimum)
      problems.push(`${path}: below minimum`);
    if (resolved.maximum !== undefined && value > resolved.maximum)
      problems.push(`${path}: above maximum`);
    if (resolved.exclusiveMinimum !== undefined && value <= resolved.exclusiveMinimum)
      problems.push(`${path}: not above exclusiveMinimum`);
  }
  if (typeof value === 'string') {
    if (resolved.minLength !== undefined && value.length < resolved.minLength)
      problems.push(`${path}: too short`);
    if (resolved.maxLength !== undefined && value.length > resolved.maxLength)
      problems.push(`${path}: too long`);
  }
  if (resolved.enum !== undefined && !resolved.enum.includes(value)) {
    problems.push(`${path}: not in enum`);
  }
  if (Array.isArray(value) && resolved.items !== undefined) {
    const items = resolved.items;
    value.forEach((item, index) =>
      problems.push(...violations(root, items, item, `${path}.${index}`)),
    );
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const required of resolved.required ?? []) {
      if (!(required in value)) problems.push(`${path}: missing ${required}`);
    }
    for (const [key, child] of Object.entries(value)) {
      const childSchema = resolved.properties?.[key] ?? resolved.additionalProperties;
      if (childSchema === false || childSchema === undefined) {
        problems.push(`${path}.${key}: not allowed`);
      } else if (childSchema !== true) {
        problems.push(...violations(root, childSchema, child, `${path}.${key}`));
      }
    }
  }
  return problems;
}

function everySchema(schema: JsonSchema): JsonSchema[] {
  const children = [
    ...Object.values(schema.$defs ?? {}),
    ...Object.values(schema.properties ?? {}),
    ...(schema.anyOf ?? []),
    ...(schema.items !== undefined ? [schema.items] : []),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
  ];
  return [schema, ...children.flatMap(everySchema)];
}

describe(buildJsonSchema.name, () => {
  it('is a draft 2020-12 object schema with every section required and nothing else allowed', () => {
    const schema = buildSut();

    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual([
      'scoring',
      'thresholds',
      'geo',
      'date',
      'title',
      'cluster',
      'canonical',
      'ai',
      'category_weights',
    ]);
  });

  it('describes types, ranges and defaults of fields', () => {
    const schema = buildSut();

    expect(prop(def(schema, 'ScoringWeights'), 'date')).toEqual({
      description: 'Weight of the date similarity in the overall score',
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.3,
    });
    expect(prop(def(schema, 'ClusterConfig'), 'max_cluster_size')).toMatchObject({
      type: 'integer',
      minimum: 2,
      default: 15,
    });
    expect(prop(def(schema, 'GeoConfig'), 'max_distance_km')).toMatchObject({
      type: 'number',
      exclusiveMinimum: 0,
      default: 10,
    });
    expect(prop(def(schema, 'AiConfig'), 'max_output_tokens')).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 65536,
    });
    expect(prop(def(schema, 'CategoryWeights'), 'priority')).toMatchObject({
      type: 'array',
      maxItems: 100,
      items: { type: 'string', minLength: 1, maxLength: 100 },
      default: [],
    });
  });

  it('lists the allowed strategies as enums', () => {
    const strategies = def(buildSut(), 'FieldStrategies');

    expect(prop(strategies, 'title')).toMatchObject({
      type: 'string',
      enum: [...TITLE_STRATEGIES],
      default: 'longest_non_generic',
    });
    expect(prop(strategies, 'location').enum).toEqual(['most_complete', 'most_common', 'first']);
  });

  it('gives every field a description and a default', () => {
    const schema = buildSut();
    const fields = [schema, ...Object.values(schema.$defs ?? {})].flatMap((object) =>
      Object.entries(object.properties ?? {}),
    );

    expect(fields.length).toBeGreaterThan(40);
    for (const [name, field] of fields) {
      expect({ name, description: typeof field.description }).toEqual({
        name,
        description: 'string',
      });
      expect({ name, hasDefault: field.default !== undefined }).toEqual({ name, hasDefault: true });
    }
  });

  it('marks the secret as write-only and x-secret, and does not require it', () => {
    const ai = def(buildSut(), 'AiConfig');

    expect(prop(ai, 'api_key')).toMatchObject({
      type: 'string',
      maxLength: 4096,
      writeOnly: true,
      'x-secret': true,
    });
    expect(ai.required).not.toContain('api_key');
    expect(prop(ai, 'model').writeOnly).toBeUndefined();
  });

  it('describes the override map and the nullable cross_source_type', () => {
    const schema = buildSut();

    expect(prop(def(schema, 'CategoryWeights'), 'overrides')).toMatchObject({
      type: 'object',
      additionalProperties: { $ref: '#/$defs/ScoringWeights' },
      maxProperties: 100,
      default: {},
    });
    expect(prop(def(schema, 'TitleConfig'), 'cross_source_type')).toMatchObject({
      anyOf: [{ $ref: '#/$defs/TitleSimilarityConfig' }, { type: 'null' }],
      default: null,
    });
    expect(def(schema, 'TitleSimilarityConfig').properties).not.toHaveProperty('cross_source_type');
  });

  it('describes the cross-field rules', () => {
    const schema = buildSut();

    expect(def(schema, 'ScoringWeights').description).toMatch(/sum to 1/);
    expect(prop(def(schema, 'Thresholds'), 'low').description).toMatch(
      /less than or equal to high/,
    );
    expect(prop(def(schema, 'DateConfig'), 'time_close_minutes').description).toMatch(
      /greater than or equal to time_tolerance_minutes/,
    );
  });

  it('publishes the cross-field rules in machine-readable x- keywords for clients', () => {
    const schema = buildSut();

    expect(def(schema, 'ScoringWeights')['x-sum']).toEqual({ equals: 1, tolerance: 0.001 });
    expect(prop(def(schema, 'Thresholds'), 'low')['x-not-greater-than']).toBe('high');
    expect(prop(def(schema, 'DateConfig'), 'time_close_minutes')['x-not-less-than']).toBe(
      'time_tolerance_minutes',
    );
    expect(def(schema, 'Thresholds')['x-sum']).toBeUndefined();
  });

  it('is standalone: every $ref points into its own $defs', () => {
    const schema = buildSut();
    const refs = everySchema(schema).flatMap((node) =>
      node.$ref === undefined ? [] : [node.$ref],
    );

    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(() => resolve(schema, { $ref: ref })).not.toThrow();
    }
  });

  it('has defaults that satisfy the schema itself and validateConfig', () => {
    const schema = buildSut();
    const fromDefaults = Object.fromEntries(
      Object.entries(schema.properties ?? {}).map(([name, section]) => [
        name,
        section.default ?? null,
      ]),
    );

    expect(violations(schema, schema, fromDefaults, '$')).toEqual([]);
    for (const object of Object.values(schema.$defs ?? {})) {
      for (const [name, field] of Object.entries(object.properties ?? {})) {
        expect(violations(schema, field, field.default ?? null, name)).toEqual([]);
      }
    }
    expect(validateConfig(dedupWorker(), fromDefaults)).toEqual({
      ok: true,
      config: defaultConfig(dedupWorker()),
    });
  });

  it('ignores class-validator metadata of unrelated classes, even ones with the same name', () => {
    const before = JSON.stringify(buildSut());

    class ScoringWeights {
      @Describe('unrelated')
      @IsNumber()
      @Min(5)
      @Max(9)
      date = 7;

      @IsIn(['x'])
      other = 'x';
    }

    expect(new ScoringWeights().date).toBe(7);
    expect(JSON.stringify(buildSut())).toBe(before);
  });

  it('publishes MaxCodePoints as maxLength and refuses class-validator MaxLength, which counts differently', () => {
    class Named {
      @Describe('A name')
      @IsString()
      @MaxCodePoints(3)
      name = 'abc';
    }
    class Legacy {
      @Describe('A name')
      @IsString()
      @MaxLength(3)
      name = 'abc';
    }

    const schema = buildJsonSchema({ name: 'named', description: 'n', schema: Named });
    expect(prop(schema, 'name')).toMatchObject({ type: 'string', maxLength: 3 });
    expect(() => buildJsonSchema({ name: 'legacy', description: 'l', schema: Legacy })).toThrow(
      /maxLength does not count characters as JSON Schema does/,
    );
  });
});

describe(codePointLength.name, () => {
  it('counts code points: astral characters once, combining marks and variation selectors too', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('❤️')).toBe(2);
    expect(codePointLength('e\u0301')).toBe(2);
    expect(codePointLength('👍🏽')).toBe(2);
    expect(codePointLength('\ud800x')).toBe(2);
  });
});
