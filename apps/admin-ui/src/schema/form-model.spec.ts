import fc from 'fast-check';
import {
  codePointLength as managerCodePointLength,
  defaultConfig,
  definitionOf,
  findServiceDefinition,
  validateConfig,
} from '@app/contracts';
import { changedPaths, getAt, patchBetween, rebase, setAt } from './config-edits';
import { checkConfig, codePointLength } from './form-checks';
import type { JsonSchema } from '../api/types';
import { buildForm, fieldsOf, formDefaults, groupsOf, schemaAt, secretPathsOf } from './form-model';

// The real dedup-worker schema, exactly as GET /api/services/dedup-worker/schema serves it.
const definition = findServiceDefinition('dedup-worker')!;
const schema = definition.jsonSchema;
const defaults = () => defaultConfig(definition);

describe('buildForm', () => {
  const form = buildForm(schema);

  it('makes one section per top-level key and a field for every leaf but the secret', () => {
    expect(form.map((group) => group.path)).toEqual([
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
    const paths = fieldsOf(form).map((field) => field.path);
    expect(paths).toContain('thresholds.high');
    expect(paths).toContain('canonical.field_strategies.title');
    expect(paths).toContain('title.cross_source_type.primary_weight');
    expect(paths).not.toContain('ai.api_key');
  });

  it('picks an input per type and describes ranges', () => {
    const byPath = new Map(fieldsOf(form).map((field) => [field.path, field]));
    expect(byPath.get('thresholds.high')).toMatchObject({ kind: 'number', hint: '0 to 1' });
    expect(byPath.get('cluster.max_cluster_size')?.kind).toBe('integer');
    expect(byPath.get('ai.enabled')?.kind).toBe('boolean');
    expect(byPath.get('canonical.field_strategies.start')?.kind).toBe('enum');
    expect(byPath.get('category_weights.priority')?.kind).toBe('string-list');
    expect(byPath.get('category_weights.overrides')?.kind).toBe('json');
    expect(byPath.get('geo.max_distance_km')?.hint).toBe('> 0');
  });

  it('knows the weights must sum to 1 and that cross_source_type may be switched off', () => {
    const groups = new Map(groupsOf(form).map((group) => [group.path, group]));
    expect(groups.get('scoring')?.sum).toEqual({ equals: 1, tolerance: 0.001 });
    expect(groups.get('title.cross_source_type')).toMatchObject({ nullable: true });
    expect(groups.get('title.cross_source_type')?.defaultValue).toMatchObject({
      primary_weight: 0.7,
    });
  });
});

describe('buildForm on a schema registered over the API', () => {
  // Written by hand, as a registration sends it: titles, `writeOnly` secrets without x-secret,
  // a nested object whose default leaves its fields to their own defaults.
  const registered: JsonSchema = {
    type: 'object',
    properties: {
      batch_size: { type: 'integer', title: 'Batch size', minimum: 1, default: 50 },
      limits: {
        type: 'object',
        title: 'Spending limits',
        properties: {
          soft: { type: 'number', default: 100 },
          hard: { type: 'number', title: 'Hard limit', default: 200 },
        },
        default: { hard: 300 },
      },
      gateway: {
        type: 'object',
        properties: {
          url: { type: 'string', default: 'https://pay.example' },
          token: { type: 'string', writeOnly: true, default: '' },
        },
        default: {},
      },
    },
  };

  it('labels fields and groups with their titles, else with their key', () => {
    const form = buildForm(registered);
    expect(form.map((group) => group.label)).toEqual(['Batch size', 'Spending limits', 'Gateway']);
    const labels = fieldsOf(form).map((field) => [field.path, field.label]);
    expect(labels).toEqual([
      ['batch_size', 'Batch size'],
      ['limits.soft', 'Soft'],
      ['limits.hard', 'Hard limit'],
      ['gateway.url', 'Url'],
    ]);
  });

  it('leaves writeOnly secrets out of the form and its defaults, and names them', () => {
    expect(fieldsOf(buildForm(registered)).map((field) => field.path)).not.toContain(
      'gateway.token',
    );
    expect(secretPathsOf(registered)).toEqual(['gateway.token']);
    expect(secretPathsOf(schema)).toEqual(['ai.api_key']);
    expect(schemaAt(registered, 'gateway.token')).toMatchObject({ writeOnly: true });
  });

  it('fills nested defaults under an object default, as the manager does', () => {
    expect(formDefaults(registered)).toEqual({
      batch_size: 50,
      limits: { soft: 100, hard: 300 },
      gateway: { url: 'https://pay.example' },
    });
    const manager = definitionOf({
      name: 'billing-worker',
      description: '',
      jsonSchema: registered,
    });
    expect(formDefaults(registered)).toEqual(defaultConfig(manager));
    expect(formDefaults(schema)).toEqual(defaults());
  });

  it('skips what it cannot show in a schema still being typed, instead of failing', () => {
    const odd = {
      type: 'object',
      properties: {
        nothing: null,
        yes: true,
        list: { anyOf: 'not a list', type: 'string' },
        choice: { enum: 'a', type: 'string' },
        loop: { $ref: '#/$defs/Loop' },
        missing: { $ref: '#/$defs/Missing' },
      },
      $defs: { Loop: { type: 'object', properties: { again: { $ref: '#/$defs/Loop' } } } },
    } as unknown as JsonSchema;
    const form = buildForm(odd);
    expect(form.map((group) => group.path)).toEqual(['list', 'choice', 'loop', 'missing']);
    expect(fieldsOf(form).find((field) => field.path === 'choice')?.kind).toBe('string');
    expect(() => formDefaults(odd)).not.toThrow();
  });
});

describe('checkConfig', () => {
  const form = buildForm(schema);

  it('accepts the defaults', () => {
    expect(checkConfig(form, defaults())).toEqual({});
  });

  it('names the field or group of each problem', () => {
    let config = defaults();
    config = setAt(config, 'scoring.date', 0.5);
    config = setAt(config, 'thresholds.low', 0.9);
    config = setAt(config, 'cluster.max_cluster_size', 2.5);
    config = setAt(config, 'geo.min_confidence', 'high');
    config = setAt(config, 'ai.model', '');
    expect(checkConfig(form, config)).toEqual({
      scoring: 'must sum to 1 (now 1.2)',
      'thresholds.low': 'must be less than or equal to high (0.75)',
      'cluster.max_cluster_size': 'must be a whole number',
      'geo.min_confidence': 'must be a number',
      'ai.model': 'must not be empty',
    });
  });
});

describe('patchBetween, changedPaths and rebase', () => {
  const form = buildForm(schema);

  it('sends only what changed, deleting removed map entries with null', () => {
    const base = setAt(defaults(), 'category_weights.overrides', {
      music: { date: 0.25, geo: 0.25, title: 0.25, description: 0.25 },
      film: { date: 0.25, geo: 0.25, title: 0.25, description: 0.25 },
    });
    let edited = setAt(base, 'thresholds.high', 0.8);
    edited = setAt(edited, 'category_weights.overrides', {
      music: { date: 0.4, geo: 0.1, title: 0.25, description: 0.25 },
    });
    expect(patchBetween(base, edited)).toEqual({
      thresholds: { high: 0.8 },
      category_weights: { overrides: { music: { date: 0.4, geo: 0.1 }, film: null } },
    });
    expect(patchBetween(base, base)).toBeUndefined();
  });

  it('lays the admin changes over a newer version without undoing the other writer', () => {
    const base = defaults();
    const mine = setAt(setAt(base, 'thresholds.high', 0.8), 'title.cross_source_type', null);
    const theirs = setAt(setAt(base, 'geo.max_distance_km', 25), 'thresholds.high', 0.9);
    const paths = changedPaths(form, base, mine);
    expect(paths).toEqual(['thresholds.high']);

    const withGroup = setAt(base, 'title.cross_source_type', {
      primary_weight: 0.6,
      secondary_weight: 0.4,
      blend_lower: 0.4,
      blend_upper: 0.8,
    });
    const groupPaths = changedPaths(form, base, withGroup);
    expect(groupPaths).toEqual(['title.cross_source_type']);

    const rebased = rebase(theirs, mine, paths);
    expect(getAt(rebased, 'thresholds.high')).toBe(0.8);
    expect(getAt(rebased, 'geo.max_distance_km')).toBe(25);
    expect(patchBetween(theirs, rebased)).toEqual({ thresholds: { high: 0.8 } });
  });
});

describe('the page checks what the manager checks', () => {
  const form = buildForm(schema);
  const units = ['a', 'é', 'e\u0301', '❤️', '\uFE0F', '😀', '👍🏽', '\u200D'];
  const text = fc
    .array(fc.constantFrom(...units), { minLength: 40, maxLength: 80, size: 'max' })
    .map((parts) => parts.join(''));

  it('counts lengths in code points, as the manager and JSON Schema do', () => {
    const verdicts = new Set<boolean>();
    fc.assert(
      fc.property(text, (model) => {
        expect(codePointLength(model)).toBe(managerCodePointLength(model));
        const config = { ...defaults(), ai: { ...(defaults().ai as object), model } };
        const pageSaysOk = checkConfig(form, config)['ai.model'] === undefined;
        expect(pageSaysOk).toBe(validateConfig(definition, config).ok);
        verdicts.add(pageSaysOk);
      }),
      { numRuns: 300 },
    );
    expect([...verdicts].sort()).toEqual([false, true]);
  });

  it('applies the weight-sum tolerance inclusively at both ends, as the manager does', () => {
    const weights = { date: 0.3, geo: 0.25, title: 0.3, description: 0.15 };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(0.001, -0.001, 0.0011, -0.0011, 0),
          fc.double({ min: -0.002, max: 0.002, noNaN: true }),
        ),
        (delta) => {
          const config = { ...defaults(), scoring: { ...weights, date: 0.3 + delta } };
          const pageSaysOk = checkConfig(form, config).scoring === undefined;
          expect(pageSaysOk).toBe(validateConfig(definition, config).ok);
        },
      ),
      { numRuns: 300 },
    );
  });
});
