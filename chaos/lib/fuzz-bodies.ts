import fc from 'fast-check';
import { defaultConfig, findServiceDefinition, isPlainObject } from '@app/contracts';

/** Largest body the manager accepts (create-app.ts BODY_LIMIT); some bodies go beyond it. */
const BODY_LIMIT = 100 * 1024;
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Every dotted path to a leaf of dedup-worker's default config, and every key on the way. */
function schemaPaths(): string[][] {
  const definition = findServiceDefinition('dedup-worker');
  if (!definition) throw new Error('dedup-worker is not registered');
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
    } else {
      paths.push(path);
    }
  };
  walk(defaultConfig(definition), []);
  return paths;
}

/** A JSON object text from key/value texts (built as text, so `__proto__` stays a plain key). */
function objectText(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

/** A value at a dotted path, as JSON text. */
function nest(path: readonly string[], value: string): string {
  return path.reduceRight((inner, key) => objectText([[key, inner]]), value);
}

/**
 * Generated PATCH bodies as raw text: wrong types, huge and non-finite numbers, deep nesting,
 * unicode, prototype-pollution keys (`__proto__`, `constructor`, `prototype`) at every level,
 * non-object and malformed JSON, bodies over the size limit, and plausible patches, some valid.
 */
export function fuzzBodies(count: number, seed: number): string[] {
  const paths = schemaPaths();
  const keys = [...new Set(paths.flat())];
  const path = fc.constantFrom(...paths);

  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...keys) },
    { weight: 2, arbitrary: fc.constantFrom(...FORBIDDEN_KEYS) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a.b', '\u0000', '\ud800', 'ａｉ', '💥') },
  );
  const number = fc.oneof(
    fc.double().map((n) => (Number.isFinite(n) ? JSON.stringify(n) : '1e999')),
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
    fc.constantFrom('1e400', '-1e400', '1e308', '-0', '5e-324', '0.1e-400', '9007199254740993'),
  );
  const scalar = fc.oneof(
    number,
    fc.boolean().map(String),
    fc.constant('null'),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => JSON.stringify(s)),
    fc.constantFrom('"0.5"', '""', '"longest"', '"NaN"', '"Infinity"', '[]', '{}'),
  );
  const { node } = fc.letrec<{ node: string; array: string; object: string }>((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
    object: fc.array(fc.tuple(key, tie('node')), { maxLength: 6 }).map(objectText),
  }));

  const body = fc.oneof(
    // Random documents whose keys are mostly the schema's.
    { weight: 6, arbitrary: fc.array(fc.tuple(key, node), { maxLength: 6 }).map(objectText) },
    // A real field set to something odd.
    { weight: 6, arbitrary: fc.tuple(path, node).map(([p, value]) => nest(p, value)) },
    // A real field set to a plausible number (some of these are valid and make a version).
    {
      weight: 3,
      arbitrary: fc
        .tuple(path, fc.double({ min: 0, max: 1, noNaN: true }))
        .map(([p, value]) => nest(p, JSON.stringify(value))),
    },
    // Prototype pollution at the top and inside sections.
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...FORBIDDEN_KEYS), fc.option(fc.constantFrom(...keys)), node)
        .map(([bad, section, value]) => {
          const polluted = objectText([[bad, objectText([['polluted', value]])]]);
          return section === null ? polluted : objectText([[section, polluted]]);
        }),
    },
    // Deep nesting, up to far beyond the schema's depth and the body limit.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 30, max: 30_000 }), fc.boolean())
        .map(([depth, arrays]) =>
          arrays
            ? `{"scoring":${'['.repeat(depth)}1${']'.repeat(depth)}}`
            : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        ),
    },
    // Not an object, or not JSON at all.
    {
      weight: 2,
      arbitrary: fc.oneof(
        scalar,
        node.map((text) => text.slice(0, Math.max(1, text.length - 1))),
        fc.constantFrom('', '{', '{"scoring":}', '{,}', "{'a':1}", '{"a":1,}', 'NaN', '\ufeff{}'),
      ),
    },
    // Over the size limit.
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: BODY_LIMIT, max: BODY_LIMIT * 2 })
        .map((size) =>
          objectText([['ai', objectText([['model', JSON.stringify('x'.repeat(size))]])]]),
        ),
    },
  );
  return fc.sample(body, { numRuns: count, seed });
}
