import { defaultConfig, type ServiceDefinition, validateConfig } from '@app/contracts';
import { seededRandom } from '../../apps/dedup-worker/src/matching/testing/matching.factories';

/** MatchingConfig documents for timing validation, split by Ajv's verdict. */
export interface MatchingDocuments {
  valid: Record<string, unknown>[];
  invalid: Record<string, unknown>[];
}

// Values an edit may put anywhere: in range, at and beyond bounds, and of the wrong type.
const VALUES: unknown[] = [
  0,
  0.05,
  0.2,
  0.5,
  0.8,
  0.95,
  1,
  1.5,
  2,
  5,
  15,
  30,
  100,
  2048,
  65537,
  -1,
  -0.1,
  '',
  'longest',
  'union',
  'gemini-2.5-pro',
  'x'.repeat(120),
  true,
  false,
  null,
  [],
  {},
  ['music'],
];
const OVERRIDES: unknown[] = [
  { date: 0.4, geo: 0.2, title: 0.3, description: 0.1 },
  { date: 0.5, geo: 0.5, title: 0.5, description: 0.5 },
  { date: 0.25, geo: 0.25, title: 0.25, description: 0.25 },
  { date: 'high' },
];

/**
 * `count` documents of each verdict, always the same: MatchingConfig's defaults with one to four
 * edits (a leaf changed to a value of {@link VALUES} or scaled a little, a field removed, an
 * unknown field, a `category_weights.overrides` entry), sorted into valid and invalid by Ajv.
 */
export function matchingDocuments(definition: ServiceDefinition, count: number): MatchingDocuments {
  const random = seededRandom(14);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const base = defaultConfig(definition);
  const paths = leafPaths(base);
  const result: MatchingDocuments = { valid: [], invalid: [] };
  for (let attempt = 0; attempt < count * 50; attempt++) {
    if (result.valid.length >= count && result.invalid.length >= count) break;
    const document = structuredClone(base);
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) {
      const path = pick(paths);
      const roll = random();
      if (roll < 0.35) {
        const current = valueAt(document, path);
        // A small change of a number usually keeps it valid: the valid half needs those.
        if (typeof current === 'number')
          setAt(document, path, round(current * (0.9 + random() * 0.2)));
      } else if (roll < 0.7) setAt(document, path, structuredClone(pick(VALUES)));
      else if (roll < 0.8) setAt(document, path, undefined);
      else if (roll < 0.9) setAt(document, [...path.slice(0, -1), 'unknown_field'], 1);
      else
        setAt(
          document,
          ['category_weights', 'overrides', pick(['music', 'sports', 'theatre'])],
          structuredClone(pick(OVERRIDES)),
        );
    }
    const verdict = validateConfig(definition, document).ok ? result.valid : result.invalid;
    if (verdict.length < count) verdict.push(document);
  }
  if (result.valid.length < count || result.invalid.length < count) {
    throw new Error(
      `generated only ${result.valid.length} valid and ${result.invalid.length} invalid documents`,
    );
  }
  return result;
}

function round(value: number): number {
  return Number(value.toFixed(3));
}

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([key, child]) => leafPaths(child, prefix.concat(key)));
}

function valueAt(target: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = target;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let current = target;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete current[last];
  else current[last] = value;
}
