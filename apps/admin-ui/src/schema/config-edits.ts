// Edits to a config as plain data: reading and setting dotted paths, the changed paths, the
// smallest PATCH, and laying changes over a newer version.
import type { ConfigObject } from '../api/types';
import type { FormNode, GroupNode } from './form-model';

/** A JSON object: not an array, not null. */
export function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path, or undefined. */
export function getAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** A copy of `root` with `value` at the dotted path (objects along the way are copied, not changed). */
export function setAt(root: ConfigObject, path: string, value: unknown): ConfigObject {
  const [key, ...rest] = path.split('.');
  if (rest.length === 0) return { ...root, [key]: value };
  const child = root[key];
  return { ...root, [key]: setAt(isObject(child) ? child : {}, rest.join('.'), value) };
}

/**
 * The smallest PATCH body that turns `base` into `edited` under the manager's deep merge: objects
 * merge (a key missing from `edited` is sent as null, which deletes a map entry), arrays and
 * scalars replace. Undefined when nothing changed.
 */
export function patchBetween(base: unknown, edited: unknown): unknown {
  if (isObject(base) && isObject(edited)) {
    const patch: ConfigObject = {};
    for (const key of new Set([...Object.keys(base), ...Object.keys(edited)])) {
      if (!Object.hasOwn(edited, key)) {
        patch[key] = null;
        continue;
      }
      const child = patchBetween(base[key], edited[key]);
      if (child !== undefined) patch[key] = child;
    }
    return Object.keys(patch).length === 0 ? undefined : patch;
  }
  return sameJson(base, edited) ? undefined : edited;
}

/**
 * The form-level paths where `edited` differs from `base`: fields (a map or list as a whole) and
 * nullable groups switched on or off.
 */
export function changedPaths(
  form: readonly GroupNode[],
  base: ConfigObject,
  edited: ConfigObject,
): string[] {
  const changed: string[] = [];
  const visit = (node: FormNode) => {
    const before = getAt(base, node.path);
    const after = getAt(edited, node.path);
    if (node.type === 'field' || (node.nullable && (before === null) !== (after === null))) {
      if (!sameJson(before, after)) changed.push(node.path);
      return;
    }
    if (after !== null) node.children.forEach(visit);
  };
  form.forEach(visit);
  return changed;
}

/** `current` with the admin's changes (paths from {@link changedPaths}) laid over it. */
export function rebase(
  current: ConfigObject,
  edited: ConfigObject,
  paths: readonly string[],
): ConfigObject {
  return paths.reduce((result, path) => setAt(result, path, getAt(edited, path)), current);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
