import {
  DEDUP_WORKER_SERVICE,
  deepMerge,
  defaultConfig,
  definitionOf,
  findServiceDefinition,
  validateConfig,
  validatorFor,
  type ConfigIssue,
  type ServiceDefinition,
} from '@app/contracts';
import fc from 'fast-check';

function dedupWorker(): ServiceDefinition {
  const definition = findServiceDefinition(DEDUP_WORKER_SERVICE);
  if (definition === undefined) {
    throw new Error('dedup-worker is not registered');
  }
  return definition;
}

/** A complete, valid dedup-worker configuration with no default left untouched where it matters. */
function fullConfig(): Record<string, unknown> {
  return {
    scoring: { date: 0.25, geo: 0.25, title: 0.35, description: 0.15 },
    thresholds: { high: 0.8, low: 0.3 },
    geo: { max_distance_km: 5.5, min_confidence: 0.9, neutral_score: 0.4 },
    date: {
      time_tolerance_minutes: 15,
      time_close_minutes: 60,
      close_factor: 0.6,
      far_factor: 0.2,
    },
    title: {
      primary_weight: 0.6,
      secondary_weight: 0.4,
      blend_lower: 0.3,
      blend_upper: 0.9,
      cross_source_type: {
        primary_weight: 0.5,
        secondary_weight: 0.5,
        blend_lower: 0.2,
        blend_upper: 0.7,
      },
    },
    cluster: { max_cluster_size: 8, min_internal_similarity: 0.5 },
    canonical: {
      field_strategies: {
        title: 'longest',
        short_description: 'shortest',
        description: 'most_common',
        highlights: 'intersection',
        location: 'first',
        categories: 'most_common',
        start: 'latest',
      },
    },
    ai: {
      enabled: true,
      model: 'gemini-2.5-pro',
      temperature: 0.5,
      max_output_tokens: 4096,
      max_concurrent_requests: 10,
      confidence_threshold: 0.7,
      cache_enabled: false,
      cost_per_1m_input_tokens: 1.25,
      cost_per_1m_output_tokens: 10,
    },
    category_weights: {
      priority: ['music', 'sports'],
      overrides: {
        music: { date: 0.4, geo: 0.2, title: 0.3, description: 0.1 },
        sports: { date: 0.5, geo: 0.3, title: 0.1, description: 0.1 },
      },
    },
  };
}

function issuesOf(input: unknown, options?: { allowSecrets?: boolean }): ConfigIssue[] {
  const result = validateConfig(dedupWorker(), input, options);
  if (result.ok) {
    throw new Error(`expected issues, got a valid config: ${JSON.stringify(result.config)}`);
  }
  return result.issues;
}

function paths(result: ReturnType<typeof validateConfig>): string[] {
  return result.ok ? [] : result.issues.map((issue) => issue.path);
}

function configOf(input: unknown, options?: { allowSecrets?: boolean }): Record<string, unknown> {
  const result = validateConfig(dedupWorker(), input, options);
  if (!result.ok) {
    throw new Error(`expected a valid config, got ${JSON.stringify(result.issues)}`);
  }
  return result.config;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < depth; level++) {
    value = { a: value };
  }
  return value;
}

describe(validateConfig.name, () => {
  const sut = validateConfig;

  describe('document shape', () => {
    it.each([[[]], [null], ['config'], [42], [true], [undefined], [new Date(0)]])(
      'rejects %p as not a JSON object at path ""',
      (input) => {
        expect(issuesOf(input)).toEqual([
          { path: '', message: 'configuration must be a JSON object' },
        ]);
      },
    );

    it.each(['__proto__', 'constructor', 'prototype'])(
      'rejects a %s key at its path, before anything else',
      (key) => {
        const input: unknown = JSON.parse(`{"scoring":{"${key}":{"x":1},"date":"not a number"}}`);

        expect(issuesOf(input)).toEqual([
          { path: `scoring.${key}`, message: `scoring.${key} is a forbidden key` },
        ]);
      },
    );

    it('rejects a forbidden key inside an array', () => {
      const input: unknown = JSON.parse('{"category_weights":{"priority":[{"__proto__":{}}]}}');

      expect(issuesOf(input)).toEqual([
        {
          path: 'category_weights.priority.0.__proto__',
          message: 'category_weights.priority.0.__proto__ is a forbidden key',
        },
      ]);
    });

    it('rejects nesting deeper than 32 levels and accepts 32 as far as nesting goes', () => {
      const tooDeep = issuesOf({ extra: nested(32) });
      const deepEnough = issuesOf({ extra: nested(31) });

      expect(tooDeep).toHaveLength(1);
      expect(tooDeep[0].path).toBe(`extra${'.a'.repeat(31)}`);
      expect(tooDeep[0].message).toMatch(/nested deeper than 32 levels$/);
      expect(deepEnough).toEqual([{ path: 'extra', message: 'extra is an unknown field' }]);
    });

    it('rejects a cyclic object instead of looping', () => {
      const input: Record<string, unknown> = {};
      input.self = input;

      expect(issuesOf(input)[0].message).toMatch(/nested deeper than 32 levels/);
    });
  });

  describe('defaults', () => {
    it('fills every omitted field, so {} is the default configuration', () => {
      expect(configOf({})).toEqual(defaultConfig(dedupWorker()));
    });

    it('fills omitted fields inside a partially given section', () => {
      const config = configOf({ thresholds: { low: 0.5 }, geo: { neutral_score: 0.1 } });

      expect(config.thresholds).toEqual({ high: 0.75, low: 0.5 });
      expect(config.geo).toEqual({ max_distance_km: 10, min_confidence: 0.85, neutral_score: 0.1 });
      expect(config.scoring).toEqual({ date: 0.3, geo: 0.25, title: 0.3, description: 0.15 });
    });

    it('fills omitted fields inside override map entries and cross_source_type', () => {
      const config = configOf({
        title: { cross_source_type: { primary_weight: 0.6 } },
        category_weights: { overrides: { music: { date: 0.2, geo: 0.35 } } },
      });

      expect(config.title).toEqual({
        primary_weight: 0.7,
        secondary_weight: 0.3,
        blend_lower: 0.4,
        blend_upper: 0.8,
        cross_source_type: {
          primary_weight: 0.6,
          secondary_weight: 0.3,
          blend_lower: 0.4,
          blend_upper: 0.8,
        },
      });
      expect(config.category_weights).toEqual({
        priority: [],
        overrides: { music: { date: 0.2, geo: 0.35, title: 0.3, description: 0.15 } },
      });
    });
  });

  describe('a valid full configuration', () => {
    it('passes and comes back unchanged', () => {
      expect(sut(dedupWorker(), fullConfig())).toEqual({ ok: true, config: fullConfig() });
    });

    it('normalizes to the same bytes whatever the key order of the input', () => {
      const reversed = reverseKeys(fullConfig());

      const fromOrdered = JSON.stringify(configOf(fullConfig()));
      const fromReversed = JSON.stringify(configOf(reversed));

      expect(fromReversed).toBe(fromOrdered);
      expect(JSON.stringify(configOf(fullConfig()))).toBe(fromOrdered);
      expect(Object.keys(configOf(reversed))).toEqual([
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

    it('never mutates the input and shares no objects with it', () => {
      const input = deepFreeze(fullConfig());
      const before = JSON.stringify(input);

      const config = configOf(input);
      (config.category_weights as { priority: string[] }).priority.push('changed');

      expect(JSON.stringify(input)).toBe(before);
    });

    it('accepts weights that sum to 1 within 0.001', () => {
      expect(
        sut(dedupWorker(), { scoring: { date: 0.3005, geo: 0.25, title: 0.3, description: 0.15 } })
          .ok,
      ).toBe(true);
    });

    it('accepts the boundary values of each range', () => {
      const result = sut(dedupWorker(), {
        thresholds: { high: 0.5, low: 0.5 },
        date: { time_tolerance_minutes: 30, time_close_minutes: 30 },
        title: { blend_lower: 0.6, blend_upper: 0.6 },
        cluster: { max_cluster_size: 2, min_internal_similarity: 0 },
        ai: {
          temperature: 2,
          max_output_tokens: 65536,
          max_concurrent_requests: 100,
          cost_per_1m_input_tokens: 0,
        },
      });

      expect(result.ok).toBe(true);
    });
  });

  describe('field rules', () => {
    it('rejects weights that do not sum to 1, naming the sum, at the object path', () => {
      expect(issuesOf({ scoring: { date: 0.4 } })).toEqual([
        { path: 'scoring', message: 'scoring must sum to 1 (got 1.1)' },
      ]);
    });

    it('rejects low above high at thresholds.low, naming both values', () => {
      const issues = issuesOf({ thresholds: { high: 0.5, low: 0.6 } });

      expect(issues).toHaveLength(1);
      expect(issues[0].path).toBe('thresholds.low');
      expect(issues[0].message).toMatch(/^thresholds\.low must be less than or equal to high/);
      expect(issues[0].message).toContain('0.6');
      expect(issues[0].message).toContain('0.5');
    });

    it('rejects time_close_minutes below time_tolerance_minutes', () => {
      expect(issuesOf({ date: { time_tolerance_minutes: 60, time_close_minutes: 45 } })).toEqual([
        {
          path: 'date.time_close_minutes',
          message:
            'date.time_close_minutes must be greater than or equal to time_tolerance_minutes (got time_close_minutes 45, time_tolerance_minutes 60)',
        },
      ]);
    });

    it('rejects blend_lower above blend_upper', () => {
      expect(issuesOf({ title: { blend_lower: 0.9 } }).map((issue) => issue.path)).toEqual([
        'title.blend_lower',
      ]);
    });

    it.each([
      [
        { cluster: { max_cluster_size: 1 } },
        'cluster.max_cluster_size',
        'cluster.max_cluster_size must not be less than 2',
      ],
      [
        { cluster: { max_cluster_size: 2.5 } },
        'cluster.max_cluster_size',
        'cluster.max_cluster_size must be an integer number',
      ],
      [{ scoring: { date: 1.5 } }, 'scoring.date', 'scoring.date must not be greater than 1'],
      [
        { geo: { min_confidence: -0.1 } },
        'geo.min_confidence',
        'geo.min_confidence must not be less than 0',
      ],
      [
        { geo: { max_distance_km: 0 } },
        'geo.max_distance_km',
        'geo.max_distance_km must be a positive number',
      ],
      [
        { date: { time_tolerance_minutes: -5 } },
        'date.time_tolerance_minutes',
        'date.time_tolerance_minutes must be a positive number',
      ],
      [{ ai: { temperature: 2.1 } }, 'ai.temperature', 'ai.temperature must not be greater than 2'],
      [
        { ai: { max_output_tokens: 0 } },
        'ai.max_output_tokens',
        'ai.max_output_tokens must not be less than 1',
      ],
      [
        { ai: { max_output_tokens: 65537 } },
        'ai.max_output_tokens',
        'ai.max_output_tokens must not be greater than 65536',
      ],
      [
        { ai: { max_concurrent_requests: 101 } },
        'ai.max_concurrent_requests',
        'ai.max_concurrent_requests must not be greater than 100',
      ],
      [
        { ai: { cost_per_1m_output_tokens: -1 } },
        'ai.cost_per_1m_output_tokens',
        'ai.cost_per_1m_output_tokens must not be less than 0',
      ],
      [{ ai: { model: '' } }, 'ai.model', 'ai.model must not be empty'],
      [
        { ai: { model: 'm'.repeat(101) } },
        'ai.model',
        'ai.model must be shorter than or equal to 100 characters',
      ],
    ])('rejects %j at %s', (input, path, message) => {
      expect(issuesOf(input)).toEqual([{ path, message }]);
    });

    it('rejects a strategy outside the field set, listing the allowed ones', () => {
      expect(issuesOf({ canonical: { field_strategies: { location: 'longest' } } })).toEqual([
        {
          path: 'canonical.field_strategies.location',
          message:
            'canonical.field_strategies.location must be one of the following values: most_complete, most_common, first',
        },
      ]);
    });

    it('rejects a number given as a string with one issue, not a cascade of range errors', () => {
      expect(issuesOf({ scoring: { date: '0.3' } })).toEqual([
        { path: 'scoring.date', message: 'scoring.date must be a finite number' },
      ]);
    });

    it.each([NaN, Infinity, -Infinity])('rejects the non-JSON number %p', (value) => {
      expect(issuesOf({ ai: { temperature: value } })).toEqual([
        { path: 'ai.temperature', message: 'ai.temperature must be a finite number' },
      ]);
    });

    it.each([
      [{ ai: { enabled: 'true' } }, 'ai.enabled', 'ai.enabled must be a boolean value'],
      [
        { ai: { cache_enabled: 1 } },
        'ai.cache_enabled',
        'ai.cache_enabled must be a boolean value',
      ],
      [
        { ai: { max_output_tokens: '2048' } },
        'ai.max_output_tokens',
        'ai.max_output_tokens must be an integer number',
      ],
      [
        { thresholds: { high: null } },
        'thresholds.high',
        'thresholds.high must be a finite number',
      ],
      [{ ai: { model: 7 } }, 'ai.model', 'ai.model must be a string'],
    ])('rejects the wrongly typed %j', (input, path, message) => {
      expect(issuesOf(input)).toEqual([{ path, message }]);
    });

    it.each([
      [{ scoring: 'weights' }, 'scoring', 'scoring must be an object'],
      [{ scoring: null }, 'scoring', 'scoring must be an object'],
      [
        { canonical: { field_strategies: [] } },
        'canonical.field_strategies',
        'canonical.field_strategies must be an object',
      ],
      [
        { title: { cross_source_type: 'none' } },
        'title.cross_source_type',
        'title.cross_source_type must be an object or null',
      ],
      [
        { category_weights: { overrides: [] } },
        'category_weights.overrides',
        'category_weights.overrides must be an object',
      ],
    ])('rejects a non-object section %j', (input, path, message) => {
      expect(issuesOf(input)).toEqual([{ path, message }]);
    });

    it('rejects unknown fields at their full path', () => {
      expect(
        issuesOf({ scoring: { dat: 0.3 }, extra: true, title: { cross_source_type: { foo: 1 } } }),
      ).toEqual([
        { path: 'extra', message: 'extra is an unknown field' },
        { path: 'scoring.dat', message: 'scoring.dat is an unknown field' },
        {
          path: 'title.cross_source_type.foo',
          message: 'title.cross_source_type.foo is an unknown field',
        },
      ]);
    });

    it('reports every problem at once, sorted by path', () => {
      const paths = issuesOf({
        thresholds: { low: 'x' },
        ai: { temperature: -1 },
        scoring: { geo: 2 },
      }).map((issue) => issue.path);

      expect(paths).toEqual(['ai.temperature', 'scoring.geo', 'thresholds.low']);
    });
  });

  describe('title.cross_source_type', () => {
    it('accepts null and an object of the title shape', () => {
      expect(configOf({ title: { cross_source_type: null } })).toMatchObject({
        title: { cross_source_type: null },
      });
      expect(sut(dedupWorker(), fullConfig()).ok).toBe(true);
    });

    it('rejects a cross_source_type nested inside cross_source_type', () => {
      expect(issuesOf({ title: { cross_source_type: { cross_source_type: null } } })).toEqual([
        {
          path: 'title.cross_source_type.cross_source_type',
          message: 'title.cross_source_type.cross_source_type is an unknown field',
        },
      ]);
    });

    it('validates its ranges and cross-field rules with nested paths', () => {
      expect(
        issuesOf({ title: { cross_source_type: { primary_weight: 3, blend_lower: 0.9 } } }).map(
          (issue) => issue.path,
        ),
      ).toEqual(['title.cross_source_type.blend_lower', 'title.cross_source_type.primary_weight']);
    });
  });

  describe('category_weights', () => {
    it('validates each override entry fully, with nested paths', () => {
      expect(
        issuesOf({ category_weights: { overrides: { music: { geo: 2, tempo: 1 } } } }),
      ).toEqual([
        {
          path: 'category_weights.overrides.music.geo',
          message: 'category_weights.overrides.music.geo must not be greater than 1',
        },
        {
          path: 'category_weights.overrides.music.tempo',
          message: 'category_weights.overrides.music.tempo is an unknown field',
        },
      ]);
    });

    it('applies the sum rule to each override entry at the entry path', () => {
      expect(issuesOf({ category_weights: { overrides: { music: { date: 0.45 } } } })).toEqual([
        {
          path: 'category_weights.overrides.music',
          message: 'category_weights.overrides.music must sum to 1 (got 1.15)',
        },
      ]);
    });

    it('rejects an override entry that is not an object', () => {
      expect(issuesOf({ category_weights: { overrides: { music: 0.5 } } })).toEqual([
        {
          path: 'category_weights.overrides.music',
          message: 'category_weights.overrides.music must be an object',
        },
      ]);
    });

    it('rejects more than 100 overrides', () => {
      const overrides = Object.fromEntries(
        Array.from({ length: 101 }, (_, index) => [`c${index}`, {}]),
      );

      expect(issuesOf({ category_weights: { overrides } })).toEqual([
        {
          path: 'category_weights.overrides',
          message: 'category_weights.overrides must have at most 100 entries (got 101)',
        },
      ]);
      expect(
        sut(dedupWorker(), { category_weights: { overrides: { ...overrides, c100: undefined } } })
          .ok,
      ).toBe(true);
    });

    it('rejects an override key that would break dotted paths', () => {
      expect(
        issuesOf({ category_weights: { overrides: { 'a.b': {} } } }).map((issue) => issue.path),
      ).toEqual(['category_weights.overrides.a.b']);
      expect(issuesOf({ category_weights: { overrides: { ['x'.repeat(101)]: {} } } })).toHaveLength(
        1,
      );
    });

    it('returns overrides as a plain object with sorted keys', () => {
      const config = configOf({ category_weights: { overrides: { zumba: {}, art: {} } } });
      const overrides = (config.category_weights as { overrides: object }).overrides;

      expect(Object.getPrototypeOf(overrides)).toBe(Object.prototype);
      expect(Object.keys(overrides)).toEqual(['art', 'zumba']);
    });

    // Ajv names the entry itself (`priority.1`); the class-validator era named the list.
    it.each([
      [{ priority: 'music' }, 'category_weights.priority', 'must be an array'],
      [{ priority: ['music', 3] }, 'category_weights.priority.1', 'must be a string'],
      [{ priority: [''] }, 'category_weights.priority.0', 'must not be empty'],
      [
        { priority: ['x'.repeat(101)] },
        'category_weights.priority.0',
        'must be shorter than or equal to 100 characters',
      ],
      [
        { priority: Array.from({ length: 101 }, (_, index) => `c${index}`) },
        'category_weights.priority',
        'must contain no more than 100 elements',
      ],
    ])('rejects the priority list %j', (categoryWeights, path, message) => {
      expect(issuesOf({ category_weights: categoryWeights })).toEqual([
        { path, message: `${path} ${message}` },
      ]);
    });
  });

  describe('secrets', () => {
    const secretValue = 'sk-live-0123456789abcdef';

    it('rejects a secret in the plain configuration without echoing its value', () => {
      const result = sut(dedupWorker(), { ai: { api_key: secretValue } });

      expect(result).toEqual({
        ok: false,
        issues: [
          {
            path: 'ai.api_key',
            message:
              'ai.api_key is a secret: set it with PUT /api/services/dedup-worker/secrets/ai.api_key',
          },
        ],
      });
      expect(JSON.stringify(result)).not.toContain(secretValue);
    });

    it('leaves secrets out of the normalized configuration when absent', () => {
      expect(configOf({}, { allowSecrets: true }).ai).not.toHaveProperty('api_key');
      expect(configOf({}).ai).not.toHaveProperty('api_key');
    });

    it('accepts and returns a secret when secrets are allowed, in declaration order', () => {
      const ai = configOf({ ai: { api_key: secretValue } }, { allowSecrets: true }).ai as Record<
        string,
        unknown
      >;

      expect(ai.api_key).toBe(secretValue);
      expect(Object.keys(ai).slice(0, 3)).toEqual(['enabled', 'api_key', 'model']);
    });

    it('validates an allowed secret as a string of at most 4096 characters, never echoing it', () => {
      const tooLong = `${secretValue}${'x'.repeat(4096)}`;

      const wrongType = issuesOf({ ai: { api_key: 12345 } }, { allowSecrets: true });
      const overlong = issuesOf({ ai: { api_key: tooLong } }, { allowSecrets: true });

      expect(wrongType).toEqual([{ path: 'ai.api_key', message: 'ai.api_key must be a string' }]);
      expect(overlong).toEqual([
        {
          path: 'ai.api_key',
          message: 'ai.api_key must be shorter than or equal to 4096 characters',
        },
      ]);
      expect(JSON.stringify(overlong)).not.toContain(secretValue);
      expect(issuesOf({ ai: { api_key: null } }, { allowSecrets: true })[0].path).toBe(
        'ai.api_key',
      );
    });
  });

  describe('layering with deepMerge', () => {
    it('validates a partial layer merged over the defaults', () => {
      const definition = dedupWorker();
      const layer = { thresholds: { high: 0.9 }, category_weights: { priority: ['music'] } };

      const config = configOf(deepMerge(defaultConfig(definition), layer, definition));

      expect(config.thresholds).toEqual({ high: 0.9, low: 0.35 });
      expect(config.category_weights).toEqual({ priority: ['music'], overrides: {} });
    });
  });

  it('never throws on arbitrary JSON: it returns issues or a config', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        const result = sut(dedupWorker(), input);

        expect(
          result.ok ? Object.keys(result.config).length : result.issues.length,
        ).toBeGreaterThan(0);
      }),
    );
  });

  it('never throws on arbitrary JSON placed inside the known sections', () => {
    const sections = ['scoring', 'thresholds', 'title', 'ai', 'category_weights'];
    fc.assert(
      fc.property(
        fc.constantFrom(...sections),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (section, value) => {
          expect(() => sut(dedupWorker(), { [section]: value })).not.toThrow();
        },
      ),
    );
  });

  describe('compiled validators', () => {
    const limitSchema = (maximum: number) => ({
      type: 'object' as const,
      additionalProperties: false,
      properties: {
        limit: { type: 'integer' as const, maximum, default: 1 },
        nested: { $ref: '#/$defs/Nested' },
      },
      $defs: {
        Nested: {
          type: 'object' as const,
          additionalProperties: false,
          properties: { size: { type: 'integer' as const, maximum, default: 1 } },
        },
      },
    });
    const serviceWith = (maximum: number) =>
      definitionOf({ name: 'limits', description: 'test', jsonSchema: limitSchema(maximum) });

    it('validates with the schema it is given after the schema changed, even under the same claimed schemaHash', () => {
      const ten = serviceWith(10);
      expect(validateConfig(ten, { limit: 7, nested: { size: 7 } }).ok).toBe(true);

      // A changed schema that still names the old hash: the cache must not serve the old validator.
      const five = { ...serviceWith(5), schemaHash: ten.schemaHash };
      const result = validateConfig(five, { limit: 7, nested: { size: 7 } });

      expect(result.ok).toBe(false);
      expect(paths(result)).toEqual(['limit', 'nested.size']);
      expect(validateConfig(ten, { limit: 7, nested: { size: 7 } }).ok).toBe(true);
    });

    it('follows an unfrozen schema that is changed in place between validations', () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- edited in place below
      const jsonSchema = limitSchema(10) as Record<string, any>;
      const definition = {
        name: 'limits',
        jsonSchema,
        schemaHash: 'sha256:claimed',
        secretPaths: [],
      };
      expect(validateConfig(definition, { limit: 7, nested: {} }).ok).toBe(true);

      jsonSchema.properties.limit.maximum = 5;
      jsonSchema.$defs.Nested.properties.size.maximum = 5;
      jsonSchema.$defs.Nested.properties.size.default = 9;
      const result = validateConfig(definition, { limit: 7, nested: {} });

      expect(result.ok).toBe(false);
      expect(paths(result)).toEqual(['limit', 'nested.size']);
    });

    it('gives configs of a frozen schema that share nothing with each other or the schema', () => {
      const definition = serviceWith(10);
      const first = validateConfig(definition, {});
      const second = validateConfig(definition, {});
      if (!first.ok || !second.ok) throw new Error('expected valid defaults');

      (first.config.nested as Record<string, unknown>).size = 99;

      expect(second.config).toEqual({ limit: 1, nested: { size: 1 } });
      expect(validateConfig(definition, {})).toEqual({
        ok: true,
        config: { limit: 1, nested: { size: 1 } },
      });
    });

    it('reuses one validator for equal schemas: the same function for a second definition of the same content', () => {
      expect(validatorFor(serviceWith(10))).toBe(validatorFor(serviceWith(10)));
      expect(validatorFor(serviceWith(10))).not.toBe(validatorFor(serviceWith(5)));
    });
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(reverseKeys);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, child]) => [key, reverseKeys(child)]),
    );
  }
  return value;
}
