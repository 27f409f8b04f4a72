import type { JsonSchema } from '../json-schema/json-schema';
import { isPlainObject, joinPath } from '../json/plain-object';

/**
 * Reading a configuration schema (JSON Schema draft 2020-12, the subset of docs/… "supported
 * keywords") the way validation, defaults and the secret and map paths need it: local `$ref`s
 * resolved, a nullable object (`anyOf: [object, { type: null }]`) seen as its object branch.
 */
export class SchemaWalker {
  // A frozen root (every ServiceDefinition's schema is deep-frozen) cannot change: what a `$ref`
  // resolves to is then computed once per schema object rather than copied on every visit.
  private readonly resolved: WeakMap<JsonSchema, JsonSchema> | undefined;

  constructor(private readonly root: JsonSchema) {
    this.resolved = Object.isFrozen(root) ? new WeakMap() : undefined;
  }

  /** `schema` with its local `$ref` (`#/$defs/Name`) followed; a schema without one as is. */
  resolve(schema: JsonSchema): JsonSchema {
    if (schema.$ref === undefined) return schema;
    const cache =
      this.resolved !== undefined && Object.isFrozen(schema) ? this.resolved : undefined;
    const known = cache?.get(schema);
    if (known !== undefined) return known;
    const result = this.follow(schema);
    // Frozen like its sources, so no caller can change what the next one is given.
    cache?.set(schema, Object.freeze(result));
    return result;
  }

  private follow(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let hops = 0; current.$ref !== undefined && hops < 32; hops++) {
      const target = this.target(current.$ref);
      if (target === undefined) return current;
      // Siblings of $ref (description, default) stay visible; the target supplies the rest.
      const siblings: Record<string, unknown> = { ...current };
      delete siblings.$ref;
      current = { ...target, ...siblings };
    }
    return current;
  }

  /** The object branch of a nullable object, or the schema itself. */
  objectBranch(schema: JsonSchema): JsonSchema {
    const resolved = this.resolve(schema);
    const branches = resolved.anyOf;
    if (branches === undefined) return resolved;
    const objects = branches.map((b) => this.resolve(b)).filter((b) => isObjectSchema(b));
    return objects.length === 1 ? objects[0] : resolved;
  }

  /** Whether `null` is an accepted value (a `{ type: 'null' }` branch or a type list with it). */
  acceptsNull(schema: JsonSchema): boolean {
    const resolved = this.resolve(schema);
    return (
      typeIncludes(resolved, 'null') ||
      (resolved.anyOf ?? []).some((b) => typeIncludes(this.resolve(b), 'null'))
    );
  }

  /** The schema of the property at a dotted path through objects, or undefined. */
  propertyAt(path: string): JsonSchema | undefined {
    let current: JsonSchema | undefined = this.root;
    for (const key of path.split('.')) {
      const properties: JsonSchema['properties'] = current
        ? this.objectBranch(current).properties
        : undefined;
      current = properties && Object.hasOwn(properties, key) ? properties[key] : undefined;
      if (current === undefined) return undefined;
    }
    return current === undefined ? undefined : this.resolve(current);
  }

  /** Dotted paths of the string properties marked `writeOnly: true` (the secrets). */
  secretPaths(): string[] {
    const paths: string[] = [];
    this.visit(this.root, '', (schema, path) => {
      if (schema.writeOnly === true) paths.push(path);
    });
    return paths;
  }

  /** Dotted paths of maps: objects whose entries are `additionalProperties` of one schema. */
  mapPaths(): string[] {
    const paths: string[] = [];
    this.visit(this.root, '', (schema, path) => {
      if (isMapSchema(schema)) paths.push(path);
    });
    return paths;
  }

  /** Calls `found` for every property schema reachable through objects (not through maps or arrays). */
  private visit(
    schema: JsonSchema,
    path: string,
    found: (schema: JsonSchema, path: string) => void,
    depth = 0,
  ): void {
    if (depth > 32) return;
    const object = this.objectBranch(schema);
    for (const [name, child] of Object.entries(object.properties ?? {})) {
      const childPath = joinPath(path, name);
      const resolved = this.objectBranch(child);
      found(resolved, childPath);
      if (!isMapSchema(resolved)) this.visit(child, childPath, found, depth + 1);
    }
  }

  private target(ref: string): JsonSchema | undefined {
    const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const defs = this.root.$defs;
    if (match === null || defs === undefined) return undefined;
    const name = match[1].replace(/~1/g, '/').replace(/~0/g, '~');
    return Object.hasOwn(defs, name) ? defs[name] : undefined;
  }
}

/** An object schema (`type: object`, or properties without a type). */
export function isObjectSchema(schema: JsonSchema): boolean {
  return typeIncludes(schema, 'object') || (schema.type === undefined && !!schema.properties);
}

/** A map: an object with no fixed properties whose entries all follow one schema. */
export function isMapSchema(schema: JsonSchema): boolean {
  return (
    isObjectSchema(schema) &&
    schema.properties === undefined &&
    isPlainObject(schema.additionalProperties)
  );
}

function typeIncludes(schema: JsonSchema, type: string): boolean {
  const declared: unknown = schema.type;
  return Array.isArray(declared) ? declared.includes(type) : declared === type;
}
