import { compareCodeUnits, isPlainObject } from './plain-object';

/** JSON text with object keys sorted recursively (arrays keep their order), for hashing and comparing. */
export function canonicalJson(value: unknown): string {
  const text: string | undefined = JSON.stringify(value, (_key, current: unknown) =>
    isPlainObject(current) ? sortKeys(current) : current,
  );
  // JSON.stringify gives undefined for undefined, functions and symbols; the canonical form of "nothing" is null.
  return text ?? 'null';
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  // A null prototype keeps a literal "__proto__" key as data instead of turning it into a prototype.
  const sorted: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value).sort(compareCodeUnits)) {
    sorted[key] = value[key];
  }
  return sorted;
}
