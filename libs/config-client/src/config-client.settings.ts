import {
  type DevKeysUse,
  EnvironmentError,
  type EnvironmentReading,
  type EnvironmentVariables,
  findServiceDefinition,
  readEnvironment,
} from '@app/contracts';
import type { ConfigClientOptions } from './config-client.options';
import { ConfigClientEnvironment } from './config-client.environment';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import { type ConfigClientLogger, SILENT_LOGGER } from './config-client.logger';

/** File in DATA_DIR where config-manager keeps the keys it generated for development. */
export { DEV_KEYS_FILE } from '@app/contracts';
export { defaultInstanceId } from './config-client.environment';

/** Extra input of {@link configClientOptionsFromEnv}. */
export interface ConfigClientEnvOptions {
  /** The worker's service, when the code knows it; SERVICE_NAME, if set, must agree. */
  readonly service?: string;
  /** Receives warnings (development keys in use, no secret key); silent by default. */
  readonly logger?: ConfigClientLogger;
}

/**
 * Reads the worker's MQTT_*, SERVICE_NAME, INSTANCE_ID, CONFIG_TRUSTED_KEYS, CONFIG_SECRET_KEY,
 * LKG_PATH, LKG_HMAC_KEY and INITIAL_CONFIG_TIMEOUT_MS into client options. Outside production,
 * missing keys come from config-manager's `DATA_DIR/dev-keys.json` when it exists. Throws one
 * ConfigClientError listing every problem, each naming its variable and never a key.
 */
export function configClientOptionsFromEnv(
  env: EnvironmentVariables,
  options: ConfigClientEnvOptions = {},
): ConfigClientOptions {
  const logger = options.logger ?? SILENT_LOGGER;
  const { values: e, devKeys } = readClientEnvironment(env, options.service);
  if (devKeys !== undefined) logger.warn(devKeysWarning(devKeys));
  const service = e.SERVICE_NAME;
  if (
    e.CONFIG_SECRET_KEY === undefined &&
    (findServiceDefinition(service)?.secretPaths.length ?? 0) > 0
  ) {
    logger.warn(
      `CONFIG_SECRET_KEY is not set: any ${service} config that carries secrets will be rejected. ` +
        "Set it to the service's X25519 secret key (npm run keys -- generate).",
    );
  }
  return {
    service,
    instanceId: e.INSTANCE_ID,
    mqttUrl: e.MQTT_URL,
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    mqttCaFile: e.MQTT_CA_FILE,
    topicPrefix: e.MQTT_TOPIC_PREFIX,
    trustedKeys: new Map(e.CONFIG_TRUSTED_KEYS.map((entry) => [entry.id, entry.key])),
    secretKey: e.CONFIG_SECRET_KEY,
    lkgPath: e.LKG_PATH,
    lkgHmacKey: e.LKG_HMAC_KEY,
    initialConfigTimeoutMs: e.INITIAL_CONFIG_TIMEOUT_MS,
  };
}

/** The SDK's callers map ConfigClientError codes, so the toolkit's error is carried in one. */
function readClientEnvironment(
  env: EnvironmentVariables,
  service: string | undefined,
): EnvironmentReading<ConfigClientEnvironment> {
  try {
    return readEnvironment(new ConfigClientEnvironment(service), env);
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
