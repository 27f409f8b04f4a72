import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  findServiceDefinition,
  INSTANCE_ID_PATTERN,
  isPlainObject,
  parseNodeEnv,
  serviceDefinitions,
} from '@app/contracts';
import { decodeBase64Key, decodeStrictBase64, parseKeyList, signingPublicKeyOf } from '@app/crypto';
import type { ConfigClientOptions } from './config-client.options';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import { type ConfigClientLogger, SILENT_LOGGER } from './config-client.logger';
import { MIN_LKG_HMAC_KEY_BYTES } from './last-known-good';

/** File in DATA_DIR where config-manager keeps the keys it generated for development. */
export const DEV_KEYS_FILE = 'dev-keys.json';

/** Extra input of {@link configClientOptionsFromEnv}. */
export interface ConfigClientEnvOptions {
  /** The worker's service, when the code knows it; SERVICE_NAME, if set, must agree. */
  readonly service?: string;
  /** Receives warnings (development keys in use, no secret key); silent by default. */
  readonly logger?: ConfigClientLogger;
}

type Env = Readonly<Record<string, string | undefined>>;

const MQTT_URL = /^(mqtts?|wss?|tcp|ssl):\/\/\S+$/;
const TOPIC_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;
const ED25519_PUBLIC_KEY_BYTES = 32;
const X25519_KEY_BYTES = 32;
const GENERATED_HMAC_KEY_BYTES = 32;
const MAX_INITIAL_TIMEOUT_MS = 600_000;
const MAX_INSTANCE_ID_LENGTH = 128;

/**
 * Reads the worker's MQTT_*, SERVICE_NAME, INSTANCE_ID, CONFIG_TRUSTED_KEYS, CONFIG_SECRET_KEY,
 * LKG_PATH, LKG_HMAC_KEY and INITIAL_CONFIG_TIMEOUT_MS into client options. Outside production,
 * missing keys come from config-manager's `DATA_DIR/dev-keys.json` when it exists. Throws one
 * ConfigClientError listing every problem, each naming its variable and never a key.
 */
export function configClientOptionsFromEnv(
  env: Env,
  options: ConfigClientEnvOptions = {},
): ConfigClientOptions {
  const problems: string[] = [];
  const logger = options.logger ?? SILENT_LOGGER;
  // An unknown NODE_ENV is a problem and reads as production: never fall back to dev keys.
  const production = parseNodeEnv(env.NODE_ENV, problems) === 'production';
  const dataDir = env.DATA_DIR?.trim() || './data';
  const devKeys = production ? undefined : DevKeys.open(join(dataDir, DEV_KEYS_FILE));

  const service = readService(env, options.service, problems);
  const mqttUrl = env.MQTT_URL?.trim() ?? '';
  if (mqttUrl === '') {
    problems.push('MQTT_URL is required (mqtt://host:1883, mqtts://…, ws://…, wss://…)');
  } else if (!MQTT_URL.test(mqttUrl)) {
    problems.push('MQTT_URL must be an mqtt://, mqtts://, ws:// or wss:// URL');
  }
  const mqttCaFile = env.MQTT_CA_FILE?.trim() || undefined;
  if (mqttCaFile !== undefined && !existsSync(mqttCaFile)) {
    problems.push(`MQTT_CA_FILE ${mqttCaFile} does not exist`);
  }
  const topicPrefix = env.MQTT_TOPIC_PREFIX?.trim() ?? '';
  if (!TOPIC_PREFIX.test(topicPrefix)) {
    problems.push('MQTT_TOPIC_PREFIX must be empty or segments ending in "/", like "tenant-a/"');
  }
  const instanceId = env.INSTANCE_ID?.trim() || defaultInstanceId();
  if (!INSTANCE_ID_PATTERN.test(instanceId)) {
    problems.push(
      `INSTANCE_ID must match ${String(INSTANCE_ID_PATTERN)} (it is an MQTT topic segment)`,
    );
  }

  const trustedKeys = readTrustedKeys(env, devKeys, problems);
  const secretKey = readSecretKey(env, service, devKeys, problems);
  const lkgHmacKey = readLkgHmacKey(env, devKeys, problems);
  const initialConfigTimeoutMs = readTimeout(env, problems);
  const lkgPath = resolve(
    env.LKG_PATH?.trim() || join(dataDir, `${service ?? 'unknown'}.${instanceId}.lkg.json`),
  );

  if (problems.length > 0 || service === undefined || lkgHmacKey === undefined) {
    throw new ConfigClientError(
      ConfigClientErrorCode.InvalidEnvironment,
      `Invalid environment variables:\n  - ${problems.join('\n  - ')}`,
      problems,
    );
  }
  devKeys?.saveAndWarn(logger);
  if (secretKey === undefined && (findServiceDefinition(service)?.secretPaths.length ?? 0) > 0) {
    logger.warn(
      `CONFIG_SECRET_KEY is not set: any ${service} config that carries secrets will be rejected. ` +
        "Set it to the service's X25519 secret key (npm run keys -- generate).",
    );
  }
  return {
    service,
    instanceId,
    mqttUrl,
    mqttUsername: env.MQTT_USERNAME || undefined,
    mqttPassword: env.MQTT_PASSWORD || undefined,
    mqttCaFile,
    topicPrefix,
    trustedKeys,
    secretKey,
    lkgPath,
    lkgHmacKey,
    initialConfigTimeoutMs,
  };
}

/** `<hostname>-<pid>` reduced to INSTANCE_ID_PATTERN (the default INSTANCE_ID). */
export function defaultInstanceId(host: string = hostname(), pid: number = process.pid): string {
  const suffix = `-${pid}`;
  const cleaned = host
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_INSTANCE_ID_LENGTH - suffix.length);
  return `${cleaned || 'worker'}${suffix}`;
}

function readService(
  env: Env,
  fromCode: string | undefined,
  problems: string[],
): string | undefined {
  const fromEnv = env.SERVICE_NAME?.trim() || undefined;
  const known = serviceDefinitions()
    .map((definition) => definition.name)
    .join(', ');
  if (fromCode !== undefined && fromEnv !== undefined && fromCode !== fromEnv) {
    problems.push(`SERVICE_NAME is ${JSON.stringify(fromEnv)}, but this worker is ${fromCode}`);
    return undefined;
  }
  const service = fromCode ?? fromEnv;
  if (service === undefined) {
    problems.push(`SERVICE_NAME is required (one of: ${known})`);
    return undefined;
  }
  if (findServiceDefinition(service) === undefined) {
    problems.push(
      `SERVICE_NAME ${JSON.stringify(service)} is not a registered service (one of: ${known})`,
    );
    return undefined;
  }
  return service;
}

function readTrustedKeys(
  env: Env,
  devKeys: DevKeys | undefined,
  problems: string[],
): Map<string, Buffer> {
  const name = 'CONFIG_TRUSTED_KEYS';
  const value = env[name]?.trim() || devKeys?.trustedKeys(problems);
  if (value === undefined) {
    problems.push(`${name} is required (kid:base64Ed25519PublicKey,…; GET /api/keys lists them)`);
    return new Map();
  }
  try {
    const entries = parseKeyList(value, ED25519_PUBLIC_KEY_BYTES, name);
    if (entries.length === 0) {
      problems.push(`${name} must list at least one kid:base64Ed25519PublicKey`);
    }
    return new Map(entries.map((entry) => [entry.id, entry.key]));
  } catch (error) {
    // parseKeyList names the variable and item, never the key.
    problems.push(errorMessage(error, `${name} is invalid`));
    return new Map();
  }
}

function readSecretKey(
  env: Env,
  service: string | undefined,
  devKeys: DevKeys | undefined,
  problems: string[],
): Buffer | undefined {
  const name = 'CONFIG_SECRET_KEY';
  const value =
    env[name]?.trim() ||
    (service === undefined ? undefined : devKeys?.secretKey(service, problems));
  if (value === undefined) {
    return undefined;
  }
  try {
    return decodeBase64Key(value, X25519_KEY_BYTES, name);
  } catch (error) {
    problems.push(errorMessage(error, `${name} is invalid`));
    return undefined;
  }
}

function readLkgHmacKey(
  env: Env,
  devKeys: DevKeys | undefined,
  problems: string[],
): Buffer | undefined {
  const name = 'LKG_HMAC_KEY';
  const value = env[name]?.trim() || devKeys?.lkgHmacKey(problems);
  if (value === undefined) {
    problems.push(
      `${name} is required (at least ${MIN_LKG_HMAC_KEY_BYTES} random bytes, base64: openssl rand -base64 32)`,
    );
    return undefined;
  }
  const key = decodeStrictBase64(value);
  if (key === undefined) {
    problems.push(`${name} is not valid base64`);
    return undefined;
  }
  if (key.length < MIN_LKG_HMAC_KEY_BYTES) {
    problems.push(
      `${name} must decode to at least ${MIN_LKG_HMAC_KEY_BYTES} bytes (got ${key.length})`,
    );
    return undefined;
  }
  return key;
}

function readTimeout(env: Env, problems: string[]): number | undefined {
  const raw = env.INITIAL_CONFIG_TIMEOUT_MS?.trim();
  if (!raw) {
    return undefined;
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > MAX_INITIAL_TIMEOUT_MS) {
    problems.push(
      `INITIAL_CONFIG_TIMEOUT_MS must be an integer number of milliseconds from 0 to ${MAX_INITIAL_TIMEOUT_MS}`,
    );
    return undefined;
  }
  return value;
}

/**
 * config-manager's development key file, read so that `npm start` needs no key copying. Values
 * derived from it are reported by name once; a generated LKG_HMAC_KEY is written back to it.
 */
class DevKeys {
  private readonly used: string[] = [];
  private generatedHmacKey = false;

  private reportedMalformed = false;

  private constructor(
    private readonly path: string,
    private readonly values: Record<string, unknown>,
    private readonly malformed = false,
  ) {}

  /** The file's keys, or undefined when it does not exist; a malformed file is reported when a value is needed. */
  static open(path: string): DevKeys | undefined {
    if (!existsSync(path)) {
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (isPlainObject(parsed)) {
        return new DevKeys(path, parsed);
      }
    } catch {
      // Reported on use: the content is never echoed.
    }
    return new DevKeys(path, {}, true);
  }

  /** CONFIG_TRUSTED_KEYS from the manager's CONFIG_SIGNING_KEY_ID and the public half of CONFIG_SIGNING_KEY. */
  trustedKeys(problems: string[]): string | undefined {
    this.checkReadable(problems);
    const kid = this.string('CONFIG_SIGNING_KEY_ID');
    const secret = this.string('CONFIG_SIGNING_KEY');
    if (kid === undefined || secret === undefined) {
      return undefined;
    }
    try {
      const secretKey = decodeBase64Key(secret, 64, `${this.path} CONFIG_SIGNING_KEY`);
      const publicKey = signingPublicKeyOf(secretKey, `${this.path} CONFIG_SIGNING_KEY`);
      secretKey.fill(0);
      this.used.push('CONFIG_TRUSTED_KEYS');
      return `${kid}:${publicKey.toString('base64')}`;
    } catch (error) {
      problems.push(
        `CONFIG_TRUSTED_KEYS is not set and cannot be derived: ${errorMessage(error, 'invalid key')}`,
      );
      return undefined;
    }
  }

  /** CONFIG_SECRET_KEY from the service's entry in SERVICE_SECRET_KEYS (`service:base64Secret,…`). */
  secretKey(service: string, problems: string[]): string | undefined {
    this.checkReadable(problems);
    const list = this.string('SERVICE_SECRET_KEYS');
    if (list === undefined) {
      return undefined;
    }
    try {
      const entry = parseKeyList(list, X25519_KEY_BYTES, `${this.path} SERVICE_SECRET_KEYS`).find(
        (candidate) => candidate.id === service,
      );
      if (entry === undefined) {
        return undefined;
      }
      this.used.push('CONFIG_SECRET_KEY');
      return entry.key.toString('base64');
    } catch (error) {
      problems.push(
        `CONFIG_SECRET_KEY is not set and cannot be derived: ${errorMessage(error, 'invalid key')}`,
      );
      return undefined;
    }
  }

  /** LKG_HMAC_KEY from the file, generated (and saved by saveAndWarn) when it has none. */
  lkgHmacKey(problems: string[]): string | undefined {
    if (!this.checkReadable(problems)) {
      return undefined;
    }
    let value = this.string('LKG_HMAC_KEY');
    if (value === undefined) {
      value = randomBytes(GENERATED_HMAC_KEY_BYTES).toString('base64');
      this.values.LKG_HMAC_KEY = value;
      this.generatedHmacKey = true;
    }
    this.used.push('LKG_HMAC_KEY');
    return value;
  }

  /** Writes a generated key back (other entries kept, mode 0600) and says which values are development keys. */
  saveAndWarn(logger: ConfigClientLogger): void {
    if (this.generatedHmacKey) {
      // Temp file and rename: the manager reads this file too and must never see half of it.
      const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      writeFileSync(temp, JSON.stringify(this.values, null, 2) + '\n', { mode: 0o600 });
      renameSync(temp, this.path);
    }
    if (this.used.length > 0) {
      logger.warn(
        `Using development keys from ${this.path} for ${this.used.join(', ')}` +
          `${this.generatedHmacKey ? ' (LKG_HMAC_KEY generated now)' : ''}. ` +
          'For real deployments set them explicitly; NODE_ENV=production never reads that file.',
      );
    }
  }

  // A broken file must not be overwritten with only the generated key, nor silently ignored.
  private checkReadable(problems: string[]): boolean {
    if (this.malformed && !this.reportedMalformed) {
      this.reportedMalformed = true;
      problems.push(
        `${this.path} (development keys) is not a JSON object; delete it and restart config-manager to regenerate it`,
      );
    }
    return !this.malformed;
  }

  private string(name: string): string | undefined {
    const value = Object.hasOwn(this.values, name) ? this.values[name] : undefined;
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  }
}

function errorMessage(error: unknown, fallback: string): string {
  return error instanceof Error ? error.message : fallback;
}
