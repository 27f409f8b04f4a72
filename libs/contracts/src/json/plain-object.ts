// Keys that reach Object.prototype when assigned with `obj[key] = …`; never copied from input.
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** True for `{}`-style objects (JSON objects), false for arrays, null, class instances and primitives. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Joins a dotted path and a key: `joinPath('', 'a')` is `a`, `joinPath('a', 'b')` is `a.b`. */
export function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Orders strings by UTF-16 code units, independent of locale, so output is the same everywhere. */
export function compareCodeUnits(a: string, b: string): number {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}
