import { FORBIDDEN_KEYS, isPlainObject, joinPath } from './plain-object';

/** Options for {@link deepMerge}; a ServiceDefinition can be passed as is. */
export interface DeepMergeOptions {
  /** Dotted paths of map-valued fields (e.g. `category_weights.overrides`): `null` for an entry deletes it. */
  readonly mapPaths?: readonly string[];
}

// Deeper than any configuration needs; stops hostile input before it exhausts the stack.
const MAX_MERGE_DEPTH = 64;

/** Returns a new object: `patch` merged over `target` (objects merge, arrays and scalars replace, `null` in a map path deletes the entry). */
export function deepMerge(
  target: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
  options: DeepMergeOptions = {},
): Record<string, unknown> {
  const result = cloneObject(target, 1);
  mergeInto(result, patch, '', new Set(options.mapPaths ?? []), 1);
  return result;
}

function mergeInto(
  result: Record<string, unknown>,
  patch: Readonly<Record<string, unknown>>,
  path: string,
  mapPaths: ReadonlySet<string>,
  depth: number,
): void {
  const isMap = mapPaths.has(path);
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (FORBIDDEN_KEYS.has(key) || value === undefined) {
      continue;
    }
    if (isMap && value === null) {
      delete result[key];
      continue;
    }
    // hasOwn, so that a key such as "toString" never picks up an inherited function.
    const existing = Object.hasOwn(result, key) ? result[key] : undefined;
    if (isPlainObject(existing) && isPlainObject(value)) {
      mergeInto(existing, value, joinPath(path, key), mapPaths, depth + 1);
    } else {
      result[key] = cloneValue(value, depth + 1);
    }
  }
}

function cloneValue(value: unknown, depth: number): unknown {
  if (Array.isArray(value)) {
    guardDepth(depth);
    return value.map((item: unknown) => cloneValue(item, depth + 1));
  }
  if (isPlainObject(value)) {
    return cloneObject(value, depth);
  }
  return value;
}

function cloneObject(
  value: Readonly<Record<string, unknown>>,
  depth: number,
): Record<string, unknown> {
  guardDepth(depth);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!FORBIDDEN_KEYS.has(key) && value[key] !== undefined) {
      copy[key] = cloneValue(value[key], depth + 1);
    }
  }
  return copy;
}

function guardDepth(depth: number): void {
  if (depth > MAX_MERGE_DEPTH) {
    throw new RangeError(`deepMerge: value nested deeper than ${MAX_MERGE_DEPTH} levels`);
  }
}
