import {
  type ConfigClass,
  type DevKeysUse,
  EnvironmentError,
  type EnvironmentReading,
  type EnvironmentVariables,
  type JsonSchema,
  readEnvironment,
} from '@app/contracts';
import { clientDefinitionOf, type ConfigClientOptions } from './config-client.options';
import { ConfigClientEnvironment } from './config-client.environment';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import { type ConfigClientLogger, SILENT_LOGGER } from './config-client.logger';

/** File in DATA_DIR where config-manager keeps the keys it generated for development. */
export { DEV_KEYS_FILE } from '@app/contracts';
export { defaultInstanceId } from './config-client.environment';

/** Extra input of {@link configClientOptionsFromEnv}. */
export interface ConfigClientEnvOptions<T extends object = object> {
  /** The worker's service, when the code knows it; SERVICE_NAME, if set, must agree. */
  readonly service?: string;
  /**
   * The worker's schema, when the code brings it (ConfigClientOptions.schema); then
   * SERVICE_SCHEMA_FILE must be unset. Otherwise SERVICE_SCHEMA_FILE, else the signed schema.
   */
  readonly schema?: ConfigClass<T> | JsonSchema;
  /** Receives warnings (development keys in use, no secret key); silent by default. */
  readonly logger?: ConfigClientLogger;
}

/**
 * Reads the worker's MQTT_*, SERVICE_NAME, SERVICE_SCHEMA_FILE, INSTANCE_ID, INSTANCE_LABELS, CONFIG_TRUSTED_KEYS,
 * CONFIG_SECRET_KEY, CONFIG_SECRET_KEYS_PREVIOUS, LKG_PATH, LKG_HMAC_KEY, LKG_HMAC_KEYS_PREVIOUS,
 * INITIAL_CONFIG_TIMEOUT_MS and CONFIG_MAX_STALENESS into client options.
 * Outside production, missing keys come from config-manager's `DATA_DIR/dev-keys.json` when it
 * exists. Throws one ConfigClientError listing every problem, each naming its variable and never
 * a key.
 */
export function configClientOptionsFromEnv<T extends object = object>(
  env: EnvironmentVariables,
  options: ConfigClientEnvOptions<T> = {},
): ConfigClientOptions<T> {
  const logger = options.logger ?? SILENT_LOGGER;
  const { values: e, devKeys } = readClientEnvironment(
    env,
    options.service,
    options.schema !== undefined,
  );
  if (devKeys !== undefined) logger.warn(devKeysWarning(devKeys));
  const service = e.SERVICE_NAME;
  const schema = options.schema ?? e.SERVICE_SCHEMA_FILE?.schema;
  if (e.CONFIG_SECRET_KEY === undefined && secretPathCount(service, schema) > 0) {
    logger.warn(
      `CONFIG_SECRET_KEY is not set: any ${service} config that carries secrets will be rejected. ` +
        "Set it to the service's X25519 secret key (npm run keys -- generate).",
    );
  }
  return {
    service,
    ...(schema === undefined ? {} : { schema }),
    instanceId: e.INSTANCE_ID,
    labels: e.INSTANCE_LABELS,
    mqttUrl: e.MQTT_URL,
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    mqttCaFile: e.MQTT_CA_FILE,
    topicPrefix: e.MQTT_TOPIC_PREFIX,
    trustedKeys: new Map(e.CONFIG_TRUSTED_KEYS.map((entry) => [entry.id, entry.key])),
    secretKey: e.CONFIG_SECRET_KEY,
    previousSecretKeys: e.CONFIG_SECRET_KEYS_PREVIOUS,
    lkgPath: e.LKG_PATH,
    lkgHmacKey: e.LKG_HMAC_KEY,
    lkgPreviousHmacKeys: e.LKG_HMAC_KEYS_PREVIOUS,
    initialConfigTimeoutMs: e.INITIAL_CONFIG_TIMEOUT_MS,
    maxStalenessSeconds: e.CONFIG_MAX_STALENESS,
  };
}

// Only for the warning: a bad schema is the client constructor's to report, naming its option;
// with the signed schema, whether the service has secrets is known only once it arrives.
function secretPathCount(service: string, schema: ConfigClass | JsonSchema | undefined): number {
  try {
    return clientDefinitionOf(service, schema)?.secretPaths.length ?? 0;
  } catch {
    return 0;
  }
}

/** The SDK's callers map ConfigClientError codes, so the toolkit's error is carried in one. */
function readClientEnvironment(
  env: EnvironmentVariables,
  service: string | undefined,
  schemaFromCode: boolean,
): EnvironmentReading<ConfigClientEnvironment> {
  try {
    return readEnvironment(new ConfigClientEnvironment(service, schemaFromCode), env);
  } catch (error) {
    if (error instanceof EnvironmentError) {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidEnvironment,
        error.message,
        error.problems,
      );
    }
    throw error;
  }
}

function devKeysWarning({ path, variables, generated }: DevKeysUse): string {
  return (
    `Using development keys from ${path} for ${variables.join(', ')}` +
    `${generated.length > 0 ? ` (${generated.join(', ')} generated now)` : ''}. ` +
    'For real deployments set them explicitly; NODE_ENV=production never reads that file.'
  );
}
