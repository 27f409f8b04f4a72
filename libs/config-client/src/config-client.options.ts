import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import {
  configTopic,
  findServiceDefinition,
  healthTopic,
  INSTANCE_ID_PATTERN,
  MQTT_PACKET_HEADROOM_BYTES,
  type ServiceDefinition,
  serviceDefinitions,
} from '@app/contracts';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import type { ConfigClientLogger } from './config-client.logger';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './envelope-verifier';

/** Default wait for the broker's first config before running on last-known-good or defaults. */
export const DEFAULT_INITIAL_CONFIG_TIMEOUT_MS = 3000;

/** Everything a ConfigClient needs; `configClientOptionsFromEnv` builds it from the environment. */
export interface ConfigClientOptions {
  /** The worker's service (registered in @app/contracts). */
  readonly service: string;
  /** This instance's id (INSTANCE_ID_PATTERN); also part of the MQTT client id. */
  readonly instanceId: string;
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
  /** Last-known-good file. */
  readonly lkgPath: string;
  /** HMAC key of the last-known-good file, at least 16 bytes. */
  readonly lkgHmacKey: Buffer;
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
  readonly definition: ServiceDefinition;
  readonly instanceId: string;
  readonly topicPrefix: string;
  /** With the prefix. */
  readonly configTopic: string;
  /** With the prefix. */
  readonly healthTopic: string;
  readonly mqttUrl: string;
  readonly mqttOptions: IClientOptions;
  /** The largest MQTT packet read (the envelope limit plus the headroom for headers and topic). */
  readonly maxPacketBytes: number;
  readonly initialTimeoutMs: number;
}

const TOPIC_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;
const MQTT_URL = /^(mqtts?|wss?|tcp|ssl):\/\/\S+$/;
const MAX_INITIAL_TIMEOUT_MS = 10 * 60 * 1000;
const RECONNECT_PERIOD_MS = 1000;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Checks a ConfigClient's options, failing with a ConfigClientError that names the option, and
 * derives the topics and MQTT options (the keys and the last-known-good file are checked by the
 * classes that use them).
 */
export function resolveClientOptions(options: ConfigClientOptions): ClientSetup {
  const definition = findServiceDefinition(options.service);
  if (definition === undefined) {
    throw invalidOption(
      'service',
      `service ${JSON.stringify(options.service)} is not registered (known: ${serviceDefinitions()
        .map((d) => d.name)
        .join(', ')})`,
    );
  }
  if (!INSTANCE_ID_PATTERN.test(options.instanceId)) {
    throw invalidOption(
      'instanceId',
      `instanceId must match ${String(INSTANCE_ID_PATTERN)} (it is an MQTT topic segment)`,
    );
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
  return {
    definition,
    instanceId: options.instanceId,
    topicPrefix,
    configTopic: topicPrefix + configTopic(definition.name),
    healthTopic: topicPrefix + healthTopic(definition.name, options.instanceId),
    mqttUrl: options.mqttUrl,
    mqttOptions: {
      // Stable, so a restarted instance takes over its old session at once instead of the old
      // one's will (offline) landing later over the new instance's online status.
      clientId: `${definition.name}.${options.instanceId}`,
      username: options.mqttUsername,
      password: options.mqttPassword,
      ca: options.mqttCaFile === undefined ? undefined : readCaFile(options.mqttCaFile),
      clean: true,
      // Subscribed on every connect: with a clean session nothing survives a reconnect.
      resubscribe: false,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
    },
    // maxEnvelopeBytes itself is checked by the envelope verifier.
    maxPacketBytes:
      (options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES) + MQTT_PACKET_HEADROOM_BYTES,
    initialTimeoutMs: timeout,
  };
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw invalidOption('mqttCaFile', `mqttCaFile ${path} cannot be read: ${why}`);
  }
}

function invalidOption(option: string, message: string): ConfigClientError {
  return new ConfigClientError(ConfigClientErrorCode.InvalidOption, message, [option]);
}
