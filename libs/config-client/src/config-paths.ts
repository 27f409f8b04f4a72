import { deepMerge, isPlainObject, SchemaWalker, type ServiceDefinition } from '@app/contracts';

/**
 * The default value of each secret path, from its `default` in the schema ('' when it has
 * none): a secret the manager did not send is "not set", not "keep the old".
 */
export function secretDefaultsOf(
  definition: Pick<ServiceDefinition, 'jsonSchema' | 'secretPaths'>,
): ReadonlyMap<string, string> {
  const walker = new SchemaWalker(definition.jsonSchema);
  return new Map(
    definition.secretPaths.map((path) => {
      const value = walker.propertyAt(path)?.default;
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
