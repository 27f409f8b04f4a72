import { isPlainObject, joinPath } from './plain-object';

/** One leaf of a JSON document, addressed by its dotted path. */
export interface ConfigLeaf {
  readonly path: string;
  readonly value: unknown;
}

/** Lists the leaves of an object with dotted paths; arrays, null and empty objects are leaves. */
export function flattenLeaves(value: Readonly<Record<string, unknown>>): ConfigLeaf[] {
  const leaves: ConfigLeaf[] = [];
  collect(value, '', leaves);
  return leaves;
}

function collect(
  value: Readonly<Record<string, unknown>>,
  path: string,
  leaves: ConfigLeaf[],
): void {
  for (const key of Object.keys(value)) {
    const child = value[key];
    const childPath = joinPath(path, key);
    if (isPlainObject(child) && Object.keys(child).length > 0) {
      collect(child, childPath, leaves);
    } else if (child !== undefined) {
      leaves.push({ path: childPath, value: child });
    }
  }
}
