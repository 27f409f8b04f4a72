import fc from 'fast-check';
import {
  DEDUP_WORKER_SERVICE,
  defaultConfig,
  findServiceDefinition,
  type ServiceDefinition,
  validateConfig,
  validateWithClasses,
} from '@app/contracts';

/**
 * dedup-worker's schema has two readings: its class-validator classes (the typed source) and
 * Ajv on the JSON Schema generated from them (what the manager and every worker run). They must
 * agree on every document: the same verdict, the same normalized config when valid, and
 * problems at the same places when not.
 */

function dedupWorker(): ServiceDefinition & { schema: NonNullable<ServiceDefinition['schema']> } {
  const definition = findServiceDefinition(DEDUP_WORKER_SERVICE);
  if (definition?.schema === undefined) throw new Error('dedup-worker is not registered');
  return definition as ServiceDefinition & { schema: NonNullable<ServiceDefinition['schema']> };
}

// Values a field may be given: in range, at and beyond the bounds, and of every JSON type.
const anyValue = fc.oneof(
  fc.double({ min: -1, max: 3, noNaN: true }),
  fc.constantFrom(0, 1, 2, 0.001, 100, 101, 65536, 65537, 1.5, -0.1, 0.999, 1.001),
  fc.integer({ min: -5, max: 200 }),
  fc.constantFrom('', 'x', 'longest', 'union', 'first', 'most_common', 'gemini-2.5-pro'),
  fc.string({ maxLength: 110 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 3 }),
);

/** Every leaf path of the default config, with where it lives. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([key, child]) => [
    prefix.concat(key),
    ...leafPaths(child, prefix.concat(key)),
  ]);
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let current: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      current[key] = {};
    }
    current = current[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete current[last];
  else current[last] = value;
}

/** The defaults with a few random edits: changed values, removed fields, unknown keys, map entries. */
function documents(definition: ServiceDefinition) {
  const base = defaultConfig(definition);
  const paths = leafPaths(base).filter((path) => path.length > 0);
  const edit = fc.oneof(
    fc.tuple(fc.constantFrom(...paths), anyValue),
    fc.tuple(fc.constantFrom(...paths), fc.constant(undefined)),
    fc.tuple(
      fc.constantFrom(...paths).map((path) => path.slice(0, -1).concat('unknown_field')),
      anyValue,
    ),
    fc.tuple(
      fc
        .constantFrom('music', 'a.b', 'x'.repeat(101), 'sports')
        .map((key) => ['category_weights', 'overrides', key]),
      fc.oneof(
        fc.constant({ date: 0.4, geo: 0.2, title: 0.3, description: 0.1 }),
        fc.record({ date: anyValue, geo: anyValue }, { requiredKeys: [] }),
        anyValue,
      ),
    ),
    fc.tuple(
      fc.constant<string[]>(['title', 'cross_source_type']),
      fc.oneof(fc.constant(null), fc.constant({ primary_weight: 0.6 }), anyValue),
    ),
  );
  return fc.array(edit, { minLength: 0, maxLength: 4 }).map((edits) => {
    const document = structuredClone(base);
    // Copies: fast-check hands the same constant objects to every run.
    for (const [path, value] of edits) setAt(document, path, structuredClone(value));
    return JSON.parse(JSON.stringify(document)) as Record<string, unknown>;
  });
}

// The class era named a list of strings for a bad entry (`priority`), Ajv names the entry.
function place(path: string): string {
  return path.replace(/\.\d+$/, '');
}

describe('class-validator and Ajv agree on dedup-worker', () => {
  const definition = dedupWorker();

  it('on 1,500 generated documents, valid and invalid', () => {
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(documents(definition), (document) => {
        const classes = validateWithClasses(definition, document);
        const ajv = validateConfig(definition, document);
        if (classes.ok !== ajv.ok) {
          throw new Error(
            `verdicts differ for ${JSON.stringify(document)}: classes ${JSON.stringify(classes)}, ajv ${JSON.stringify(ajv)}`,
          );
        }
        if (classes.ok && ajv.ok) {
          valid++;
          expect(ajv.config).toEqual(classes.config);
        } else if (!classes.ok && !ajv.ok) {
          invalid++;
          const ajvPlaces = new Set(ajv.issues.map((i) => place(i.path)));
          const classPlaces = new Set(classes.issues.map((i) => place(i.path)));
          // Every problem the classes see, Ajv sees at the same place; Ajv may also look inside
          // what the classes stop at (the entry behind an invalid map key).
          for (const path of classPlaces) expect(ajvPlaces).toContain(path);
          for (const path of ajvPlaces) {
            const covered = [...classPlaces].some((c) => path === c || path.startsWith(`${c}.`));
            if (!covered)
              throw new Error(`only Ajv reports ${path} for ${JSON.stringify(document)}`);
          }
        }
      }),
      { numRuns: 1500 },
    );
    // Both sides of the boundary were exercised.
    expect(valid).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(100);
  });
});
