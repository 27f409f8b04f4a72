import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseInteger } from './env-parsers';

type Env = Readonly<Record<string, string | undefined>>;

/** How the manager reaches its MQTT broker. */
export interface MqttSettings {
  /** External broker (`mqtt://`, `mqtts://`); undefined starts the embedded broker. */
  url?: string;
  username?: string;
  password?: string;
  /** CA certificate file for `mqtts://` brokers with a private CA. */
  caFile?: string;
  embeddedHost: string;
  embeddedPort: number;
  /** Prepended to every topic (isolating tenants or tests on a shared broker); empty by default. */
  topicPrefix: string;
  clientId: string;
  /** How long a publish waits for the broker's PUBACK before it counts as not yet published. */
  ackTimeoutMs: number;
}

const PREFIX = /^([A-Za-z0-9._-]+\/)*$/;

/** Reads the MQTT_* variables. */
export function parseMqttSettings(env: Env, problems: string[]): MqttSettings {
  const url = env.MQTT_URL?.trim() || undefined;
  if (url && !/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/.test(url)) {
    problems.push('MQTT_URL must be an mqtt://, mqtts://, ws:// or wss:// URL');
  }
  const caFile = env.MQTT_CA_FILE?.trim() || undefined;
  if (caFile && !existsSync(caFile)) problems.push(`MQTT_CA_FILE ${caFile} does not exist`);
  const topicPrefix = env.MQTT_TOPIC_PREFIX?.trim() ?? '';
  if (!PREFIX.test(topicPrefix)) {
    problems.push('MQTT_TOPIC_PREFIX must be empty or segments ending in "/", like "tenant-a/"');
  }
  return {
    url,
    username: env.MQTT_USERNAME || undefined,
    password: env.MQTT_PASSWORD || undefined,
    caFile,
    embeddedHost: env.MQTT_EMBEDDED_HOST?.trim() || '127.0.0.1',
    embeddedPort: parseInteger(
      env.MQTT_EMBEDDED_PORT,
      'MQTT_EMBEDDED_PORT',
      1884,
      0,
      65535,
      problems,
    ),
    topicPrefix,
    clientId:
      env.MQTT_CLIENT_ID?.trim() ||
      `config-manager-${hostname()}-${randomBytes(3).toString('hex')}`,
    ackTimeoutMs: parseInteger(
      env.MQTT_ACK_TIMEOUT_MS,
      'MQTT_ACK_TIMEOUT_MS',
      2000,
      50,
      60000,
      problems,
    ),
  };
}
