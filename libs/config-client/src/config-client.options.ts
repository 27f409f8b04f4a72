import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import {
  candidateTopic,
  checkServiceSchema,
  type ConfigClass,
  configTopic,
  defineService,
  findServiceDefinition,
  healthTopic,
  INSTANCE_ID_PATTERN,
  type JsonSchema,
  MQTT_PACKET_HEADROOM_BYTES,
  SERVICE_NAME_PATTERN,
  type ServiceDefinition,
  schemaTopic,
} from '@app/contracts';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import type { ConfigClientLogger } from './config-client.logger';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './envelope-verifier';
import { labelProblems } from './instance-labels';

/** Default wait for the broker's first config before running on last-known-good or defaults. */
export const DEFAULT_INITIAL_CONFIG_TIMEOUT_MS = 3000;

/** Everything a ConfigClient needs; `configClientOptionsFromEnv` builds it from the environment. */
export interface ConfigClientOptions<T extends object = object> {
  /** The worker's service as registered on the manager (SERVICE_NAME_PATTERN; an MQTT topic segment). */
  readonly service: string;
  /**
   * What rule 5 validates configs with: a configuration class (its typed source; a ConfigClient
   * built with one is a ConfigClient of that class) or a JSON Schema object (checked like the
   * manager's registration checks it). Unset: the definition compiled into the contracts when
   * the service is there (dedup-worker), else the schema the manager signs and publishes on
   * `system/schema/<service>`.
   */
  readonly schema?: ConfigClass<T> | JsonSchema;
  /** This instance's id (INSTANCE_ID_PATTERN); also part of the MQTT client id. */
  readonly instanceId: string;
  /**
   * What this instance says it is, reported in every status (INSTANCE_LABELS): rollouts select
   * cohorts by them. Keys LABEL_KEY_PATTERN, values LABEL_VALUE_PATTERN, at most MAX_LABELS.
   */
  readonly labels?: Readonly<Record<string, string>>;
  readonly mqttUrl: string;
  readonly mqttUsername?: string;
  readonly mqttPassword?: string;
  /** CA certificate file for mqtts:// brokers with a private CA; read once, in the constructor. */
  readonly mqttCaFile?: string;
  /** Prepended to both topics, like the manager's MQTT_TOPIC_PREFIX (`tenant-a/`); default ''. */
  readonly topicPrefix?: string;
  /** Trusted Ed25519 public keys (32 bytes) by key id. */
  readonly trustedKeys: ReadonlyMap<string, Buffer>;
  /** The service's X25519 secret key (32 bytes); without it any payload with secrets is rejected. */
  readonly secretKey?: Buffer;
  /**
   * Earlier X25519 secret keys (CONFIG_SECRET_KEYS_PREVIOUS): a sealed secret that does not open
   * with `secretKey` is tried with each, so versions sealed before a recipient key rotation
   * still apply during the overlap.
   */
  readonly previousSecretKeys?: readonly Buffer[];
  /** Last-known-good file. */
  readonly lkgPath: string;
  /** HMAC key of the last-known-good file, at least 16 bytes. */
  readonly lkgHmacKey: Buffer;
  /**
   * Earlier HMAC keys (LKG_HMAC_KEYS_PREVIOUS), each at least 16 bytes: a file that checks only
   * under one of them is used and rewritten at once under `lkgHmacKey`.
   */
  readonly lkgPreviousHmacKeys?: readonly Buffer[];
  /**
   * Seconds without an attestation of the applied version (its acceptance or a heartbeat's
   * re-signed copy) after which the client reports itself stale (CONFIG_MAX_STALENESS;
   * default 300; 0 turns it off). A warning: runs continue on what the client has.
   */
  readonly maxStalenessSeconds?: number;
  /** How long start() waits for the broker's config (default 3000 ms). */
  readonly initialConfigTimeoutMs?: number;
  /**
   * Largest accepted envelope (default MAX_ENVELOPE_BYTES, 256 KiB). An MQTT packet larger than
   * this plus MQTT_PACKET_HEADROOM_BYTES is dropped as it arrives, before it is buffered.
   */
  readonly maxEnvelopeBytes?: number;
  /** Default: silent. The Nest module passes Nest's Logger. */
  readonly logger?: ConfigClientLogger;
}

/** What a ConfigClient is built from once its options are checked. */
export interface ClientSetup {
  readonly service: string;
  /** The worker's own schema; undefined: configs validate with the manager's signed schemas. */
  readonly definition: ServiceDefinition | undefined;
  readonly instanceId: string;
  readonly topicPrefix: string;
  /** With the prefix. */
  readonly configTopic: string;
  /** With the prefix: where a rollout's candidate is retained (docs/rollouts.md). */
  readonly candidateTopic: string;
  /** With the prefix; only for a client without its own schema (it ignores that topic otherwise). */
  readonly schemaTopic: string | undefined;
  /** With the prefix. */
  readonly healthTopic: string;
  /** Checked and frozen: reported in every status. */
  readonly labels: Readonly<Record<string, string>>;
  readonly mqttUrl: string;
  readonly mqttOptions: IClientOptions;
  /** The largest MQTT packet read (the envelope limit plus the headroom for headers and topic). */
  readonly maxPacketBytes: number;
  readonly initialTimeoutMs: number;
  /** 0: staleness is not tracked. */
  readonly maxStalenessMs: number;
}

/** Default CONFIG_MAX_STALENESS: five heartbeats of the manager's default interval (60 s). */
export const DEFAULT_MAX_STALENESS_SECONDS = 300;

/** Largest CONFIG_MAX_STALENESS (30 days): beyond it, staleness says nothing useful. */
export const MAX_STALENESS_SECONDS = 30 * 24 * 60 * 60;

const TOPIC_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;
const MQTT_URL = /^(mqtts?|wss?|tcp|ssl):\/\/\S+$/;
const MAX_INITIAL_TIMEOUT_MS = 10 * 60 * 1000;
const RECONNECT_PERIOD_MS = 1000;
const CONNECT_TIMEOUT_MS = 5000;
// Enough to fix a schema from one error message.
const MAX_SCHEMA_PROBLEMS = 10;

/**
 * Checks a ConfigClient's options, failing with a ConfigClientError that names the option, and
 * derives the topics and MQTT options (the keys and the last-known-good file are checked by the
 * classes that use them).
 */
export function resolveClientOptions(options: ConfigClientOptions): ClientSetup {
  const service = options.service;
  const definition = clientDefinitionOf(service, options.schema);
  if (!INSTANCE_ID_PATTERN.test(options.instanceId)) {
    throw invalidOption(
      'instanceId',
      `instanceId must match ${String(INSTANCE_ID_PATTERN)} (it is an MQTT topic segment)`,
    );
  }
  const labels = options.labels ?? {};
  const problems = labelProblems(labels);
  if (problems.length > 0) {
    throw invalidOption('labels', `labels ${problems.join('; ')}`);
  }
  const topicPrefix = options.topicPrefix ?? '';
  if (!TOPIC_PREFIX.test(topicPrefix)) {
    throw invalidOption(
      'topicPrefix',
      'topicPrefix must be empty or segments ending in "/", like "tenant-a/"',
    );
  }
  if (!MQTT_URL.test(options.mqttUrl)) {
    throw invalidOption('mqttUrl', 'mqttUrl must be an mqtt://, mqtts://, ws:// or wss:// URL');
  }
  const timeout = options.initialConfigTimeoutMs ?? DEFAULT_INITIAL_CONFIG_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeout) || timeout < 0 || timeout > MAX_INITIAL_TIMEOUT_MS) {
    throw invalidOption(
      'initialConfigTimeoutMs',
      `initialConfigTimeoutMs must be an integer from 0 to ${MAX_INITIAL_TIMEOUT_MS}`,
    );
  }
  const staleness = options.maxStalenessSeconds ?? DEFAULT_MAX_STALENESS_SECONDS;
  if (!Number.isFinite(staleness) || staleness < 0 || staleness > MAX_STALENESS_SECONDS) {
    throw invalidOption(
      'maxStalenessSeconds',
      `maxStalenessSeconds must be a number of seconds from 0 (off) to ${MAX_STALENESS_SECONDS}`,
    );
  }
  return {
    service,
    definition,
    instanceId: options.instanceId,
    topicPrefix,
    configTopic: topicPrefix + configTopic(service),
    candidateTopic: topicPrefix + candidateTopic(service),
    schemaTopic: definition === undefined ? topicPrefix + schemaTopic(service) : undefined,
    healthTopic: topicPrefix + healthTopic(service, options.instanceId),
    labels: Object.freeze({ ...labels }),
    mqttUrl: options.mqttUrl,
    mqttOptions: {
      // Stable, so a restarted instance takes over its old session at once instead of the old
      // one's will (offline) landing later over the new instance's online status.
      clientId: `${service}.${options.instanceId}`,
      username: options.mqttUsername,
      password: options.mqttPassword,
      ca: options.mqttCaFile === undefined ? undefined : readCaFile(options.mqttCaFile),
      clean: true,
      // Subscribed on every connect: with a clean session nothing survives a reconnect.
      resubscribe: false,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // mqtt-packet's cache of all 65,536 two-byte numbers, built on the first packet written,
      // costs a worker about 15 ms and as much again in garbage collection before it is ready;
      // a packet then allocates its few numbers instead (docs/performance.md).
      writeCache: false,
    },
    // maxEnvelopeBytes itself is checked by the envelope verifier.
    maxPacketBytes:
      (options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES) + MQTT_PACKET_HEADROOM_BYTES,
    initialTimeoutMs: timeout,
    maxStalenessMs: Math.round(staleness * 1000),
  };
}

/**
 * The definition rule 5 uses for `service` given the `schema` option (see ConfigClientOptions),
 * or undefined for a client that validates with the manager's signed schemas. Throws a
 * ConfigClientError naming `service` or `schema`.
 */
export function clientDefinitionOf(
  service: string,
  schema: ConfigClass | JsonSchema | undefined,
): ServiceDefinition | undefined {
  if (typeof service !== 'string' || !SERVICE_NAME_PATTERN.test(service)) {
    throw invalidOption(
      'service',
      `service ${JSON.stringify(service)} must match ${String(SERVICE_NAME_PATTERN)} (it is an MQTT topic segment)`,
    );
  }
  const registered = findServiceDefinition(service);
  if (schema === undefined) {
    return registered;
  }
  if (typeof schema === 'function') {
    // The registered class keeps the registered definition, whose hash the manager publishes
    // (the description is part of the generated schema): no false schemaDrift.
    if (registered?.schema === schema) {
      return registered;
    }
    try {
      return defineService({ name: service, description: '', schema });
    } catch (error) {
      throw invalidOption(
        'schema',
        `schema class ${schema.name || '(anonymous)'} does not describe a configuration: ${errorMessage(error)}`,
      );
    }
  }
  const check = checkServiceSchema(service, '', schema);
  if (!check.ok) {
    const shown = check.problems.slice(0, MAX_SCHEMA_PROBLEMS).map((problem) => problem.message);
    const more = check.problems.length - shown.length;
    throw invalidOption(
      'schema',
      `schema is not a usable JSON Schema for ${service}: ${shown.join('; ')}` +
        (more > 0 ? ` (and ${more} more)` : ''),
    );
  }
  return check.definition;
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw invalidOption('mqttCaFile', `mqttCaFile ${path} cannot be read: ${errorMessage(error)}`);
  }
}

function invalidOption(option: string, message: string): ConfigClientError {
  return new ConfigClientError(ConfigClientErrorCode.InvalidOption, message, [option]);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
