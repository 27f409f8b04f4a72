export * from './dedup-worker/matching-config.schema';
export * from './json/canonical-json';
export * from './json/config-diff';
export * from './json/date-time';
export * from './json/deep-freeze';
export * from './json/deep-merge';
export * from './json/flatten';
export * from './json/json.types';
export { isPlainObject } from './json/plain-object';
export * from './json-schema/extension-keywords';
export * from './json-schema/json-schema';
export * from './registry/service-definition';
export * from './registry/service-registry';
export * from './registry/service-schema';
export {
  ConfigMap,
  Describe,
  Invariant,
  MAX_SECRET_LENGTH,
  NestedConfig,
  Secret,
  type ConfigClass,
  type ConfigInvariant,
  type InvariantSum,
} from './schema/config-field.decorators';
export { MAP_KEY_PATTERN } from './schema/config-shape';
export * from './schema/cross-field.validators';
export * from './schema/text-length.validators';
export * from './environment/dev-keys-file';
export * from './environment/env-field.decorators';
export type {
  EnvCheckRule,
  EnvDevKeySource,
  EnvFieldContext,
  EnvironmentVariables,
  EnvParser,
  EnvValueSource,
} from './environment/env-fields';
export * from './environment/environment.error';
export * from './environment/node-env';
export * from './environment/read-environment';
export * from './topics';
export * from './validation/config-issue';
export * from './validation/json-safety';
export * from './validation/validate-config';
export * from './validation/validate-with-classes';
export { normalizeConfig } from './validation/config-normalizer';
export { SchemaWalker, isMapSchema, isObjectSchema } from './validation/schema-walk';
export * from './envelope';
export * from './health/instance-status';
export * from './health/manager-status';
export * from './message-size-limits';
export * from './api/rest-api';
