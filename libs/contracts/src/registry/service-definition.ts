import { createHash } from 'node:crypto';
import { canonicalJson } from '../json/canonical-json';
import { deepFreeze } from '../json/deep-freeze';
import { buildJsonSchema, type JsonSchema } from '../json-schema/json-schema';
import type { ConfigClass } from '../schema/config-field.decorators';
import { SERVICE_NAME_PATTERN } from '../topics';
import { SchemaWalker } from '../validation/schema-walk';

/**
 * Everything the manager and the workers need to know about one service's configuration. The
 * JSON Schema is the definition (validation, defaults, secret and map paths all come from it);
 * a service registered from code also keeps the configuration class it was generated from.
 */
export interface ServiceDefinition {
  /** Service name, also the MQTT topic segment (matches SERVICE_NAME_PATTERN). */
  readonly name: string;
  readonly description: string;
  /** The configuration class the schema was generated from (code-registered services only). */
  readonly schema?: ConfigClass;
  /** Dotted paths of the secrets (string properties with `writeOnly: true`), e.g. `ai.api_key`. */
  readonly secretPaths: readonly string[];
  /** Dotted paths of map-valued fields, where deepMerge deletes an entry given `null`. */
  readonly mapPaths: readonly string[];
  readonly jsonSchema: JsonSchema;
  /** `sha256:<hex>` of the canonical JSON of `jsonSchema`. */
  readonly schemaHash: string;
}

/** What a service registered from code brings; the rest of its definition is derived. */
export interface ServiceSpec {
  readonly name: string;
  readonly description: string;
  readonly schema: ConfigClass;
}

/** Derives a frozen service definition (JSON Schema, secret and map paths, hash) from its class. */
export function defineService(spec: ServiceSpec): ServiceDefinition {
  return definitionOf({
    name: spec.name,
    description: spec.description,
    jsonSchema: buildJsonSchema(spec),
    schema: spec.schema,
  });
}

/**
 * A frozen service definition from a JSON Schema (a registered service). The schema must already
 * have passed checkServiceSchema(); this only derives the paths and the hash.
 */
export function definitionOf(source: {
  readonly name: string;
  readonly description: string;
  readonly jsonSchema: JsonSchema;
  readonly schema?: ConfigClass;
}): ServiceDefinition {
  if (!SERVICE_NAME_PATTERN.test(source.name)) {
    throw new TypeError(
      `service name ${JSON.stringify(source.name)} must match ${String(SERVICE_NAME_PATTERN)}`,
    );
  }
  // A JSON round trip: structuredClone would make objects of another realm under Jest.
  const jsonSchema = deepFreeze(JSON.parse(JSON.stringify(source.jsonSchema)) as JsonSchema);
  const walker = new SchemaWalker(jsonSchema);
  return Object.freeze({
    name: source.name,
    description: source.description,
    ...(source.schema === undefined ? {} : { schema: source.schema }),
    secretPaths: Object.freeze(walker.secretPaths()),
    mapPaths: Object.freeze(walker.mapPaths()),
    jsonSchema,
    schemaHash: schemaHashOf(jsonSchema),
  });
}

/** `sha256:` + hex SHA-256 of the canonical JSON of a schema. */
export function schemaHashOf(jsonSchema: JsonSchema): string {
  return `sha256:${createHash('sha256').update(canonicalJson(jsonSchema), 'utf8').digest('hex')}`;
}
