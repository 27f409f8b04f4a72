import { canonicalJson } from '../json/canonical-json';
import { deepFreeze } from '../json/deep-freeze';
import { buildJsonSchema, type JsonSchema } from '../json-schema/json-schema';
import { mapPathsOf, secretPathsOf } from '../schema/config-shape';
import { SERVICE_NAME_PATTERN } from '../topics';
import { createHash } from 'node:crypto';

/** Everything the manager and the workers need to know about one service's configuration. */
export interface ServiceDefinition {
  /** Service name, also the MQTT topic segment (matches SERVICE_NAME_PATTERN). */
  readonly name: string;
  readonly description: string;
  /** The configuration class; `new schema()` is the default configuration. */
  readonly schema: new () => object;
  /** Dotted paths of the fields marked @Secret(), e.g. `ai.api_key`. */
  readonly secretPaths: readonly string[];
  /** Dotted paths of map-valued fields, where deepMerge deletes an entry given `null`. */
  readonly mapPaths: readonly string[];
  readonly jsonSchema: JsonSchema;
  /** `sha256:<hex>` of the canonical JSON of `jsonSchema`. */
  readonly schemaHash: string;
}

/** What a service brings; the rest of its definition is derived. */
export interface ServiceSpec {
  readonly name: string;
  readonly description: string;
  readonly schema: new () => object;
}

/** Derives a frozen service definition (secret and map paths, JSON Schema, schema hash) from its class. */
export function defineService(spec: ServiceSpec): ServiceDefinition {
  if (!SERVICE_NAME_PATTERN.test(spec.name)) {
    throw new TypeError(
      `service name ${JSON.stringify(spec.name)} must match ${String(SERVICE_NAME_PATTERN)}`,
    );
  }
  const jsonSchema = deepFreeze(buildJsonSchema(spec));
  return Object.freeze({
    name: spec.name,
    description: spec.description,
    schema: spec.schema,
    secretPaths: Object.freeze(secretPathsOf(spec.schema)),
    mapPaths: Object.freeze(mapPathsOf(spec.schema)),
    jsonSchema,
    schemaHash: schemaHashOf(jsonSchema),
  });
}

/** `sha256:` + hex SHA-256 of the canonical JSON of a schema. */
export function schemaHashOf(jsonSchema: JsonSchema): string {
  return `sha256:${createHash('sha256').update(canonicalJson(jsonSchema), 'utf8').digest('hex')}`;
}
