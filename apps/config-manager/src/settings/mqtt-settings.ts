import type { ManagerEnvironment } from './manager.environment';

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

/** A topic prefix: empty, or segments each ending in "/". */
export const TOPIC_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;

/** The MQTT_* variables as MqttSettings. */
export function mqttSettingsOf(env: ManagerEnvironment): MqttSettings {
  return {
    url: env.MQTT_URL,
    username: env.MQTT_USERNAME,
    password: env.MQTT_PASSWORD,
    caFile: env.MQTT_CA_FILE,
    embeddedHost: env.MQTT_EMBEDDED_HOST,
    embeddedPort: env.MQTT_EMBEDDED_PORT,
    topicPrefix: env.MQTT_TOPIC_PREFIX,
    clientId: env.MQTT_CLIENT_ID,
    ackTimeoutMs: env.MQTT_ACK_TIMEOUT_MS,
  };
}
