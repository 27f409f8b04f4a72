import { deepMerge, isPlainObject, type ServiceDefinition } from '@app/contracts';

/**
 * The default value of each secret path, read from a fresh instance of the schema class ('' when
 * the class leaves it unset): a secret the manager did not send is "not set", not "keep the old".
 */
export function secretDefaultsOf(
  definition: Pick<ServiceDefinition, 'schema' | 'secretPaths'>,
): ReadonlyMap<string, string> {
  const instance: unknown = new definition.schema();
  return new Map(
    definition.secretPaths.map((path) => {
      const value = readPath(instance, path);
      return [path, typeof value === 'string' ? value : ''];
    }),
  );
}

/** Sets `value` at a dotted path of plain objects; false (and nothing changed) when a parent is missing or not an object. */
export function setAtPath(target: Record<string, unknown>, path: string, value: unknown): boolean {
  const keys = path.split('.');
  const last = keys.pop();
  let parent: unknown = target;
  for (const key of keys) {
    parent = isPlainObject(parent) && Object.hasOwn(parent, key) ? parent[key] : undefined;
  }
  if (last === undefined || !isPlainObject(parent)) {
    return false;
  }
  parent[last] = value;
  return true;
}

/** A copy of the secret defaults applied to `config` (used for the defaults a worker runs on when nothing else exists). */
export function withSecretDefaults(
  config: Record<string, unknown>,
  defaults: ReadonlyMap<string, string>,
): Record<string, unknown> {
  // deepMerge clones plain JSON; structuredClone would not keep plain objects plain under Jest's realms.
  const copy = deepMerge(config, {});
  for (const [path, value] of defaults) {
    setAtPath(copy, path, value);
  }
  return copy;
}

// Class instances are walked too (the schema's defaults), so this is not limited to plain objects.
function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
