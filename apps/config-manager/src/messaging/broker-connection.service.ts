import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import { connectGuarded, disableNagle, publishAcknowledged, safeUrl } from '@app/config-client';
import { MAX_MQTT_PACKET_BYTES } from '@app/contracts';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { EmbeddedBrokerService } from './embedded-broker.service';

/** A message to leave with the broker, published by it if the manager vanishes. */
export interface LastWill {
  topic: string;
  payload: string;
}

/** `retained`: delivered from the broker's store on subscribing (a replay of the past), not live. */
type MessageListener = (topic: string, payload: Buffer, retained: boolean) => void;
type OversizedListener = (topic: string, bytes: number) => void;

/**
 * The manager's one MQTT connection. The `mqtt` client is used directly rather than through
 * `@nestjs/microservices`' ClientMqtt: publishing needs the exact envelope bytes (Nest's
 * serializer wraps payloads in its own packet format), a per-message PUBACK to drive the
 * outbox, a retained last will, and a hook on every reconnect to republish.
 */
@Injectable()
export class BrokerConnectionService implements OnApplicationShutdown {
  private readonly logger = new Logger(BrokerConnectionService.name);
  private client: MqttClient | undefined;
  private readonly connectListeners: Array<() => void> = [];
  private readonly messageListeners: MessageListener[] = [];
  private readonly oversizedListeners: OversizedListener[] = [];
  private readonly subscriptions: string[] = [];
  private url = '';
  private lastError: string | undefined;
  private shuttingDown = false;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly embedded: EmbeddedBrokerService,
  ) {}

  /** Topic with the configured prefix. */
  topic(name: string): string {
    return `${this.settings.mqtt.topicPrefix}${name}`;
  }

  /** Starts connecting (the embedded broker first, if used); never blocks on an unreachable broker. */
  async start(will: LastWill): Promise<void> {
    const mqtt = this.settings.mqtt;
    this.url = mqtt.url ?? (await this.embedded.start());
    const options: IClientOptions = {
      clientId: mqtt.clientId,
      username: mqtt.username,
      password: mqtt.password,
      ca: mqtt.caFile ? readFileSync(mqtt.caFile) : undefined,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    };
    const client = connectGuarded(this.url, options, {
      maxPacketBytes: MAX_MQTT_PACKET_BYTES,
      onOversized: (topic, bytes) => this.onOversizedMessage(topic, bytes),
    });
    this.client = client;
    client.on('connect', () => {
      disableNagle(client);
      this.lastError = undefined;
      this.logger.log(`Connected to MQTT broker ${safeUrl(this.url)}`);
      if (this.subscriptions.length > 0) {
        client.subscribe(this.subscriptions, { qos: 1 }, (error) => {
          if (error)
            this.logger.warn(
              `Subscribing to ${this.subscriptions.join(', ')} failed: ${error.message}`,
            );
        });
      }
      for (const listener of this.connectListeners) listener();
    });
    client.on('message', (topic, payload, packet) => {
      for (const listener of this.messageListeners) listener(topic, payload, packet.retain);
    });
    client.on('error', (error) => {
      // Once shutting down, a message still arriving cannot be acknowledged: not worth a warning.
      if (this.shuttingDown) return;
      if (this.lastError !== error.message) {
        this.logger.warn(`MQTT broker ${safeUrl(this.url)}: ${error.message}`);
      }
      this.lastError = error.message;
    });
    client.on('offline', () => {
      this.logger.warn(
        `MQTT broker ${safeUrl(this.url)} unreachable: versions are committed and will be published when it returns`,
      );
    });
  }

  /** Calls `listener` on every (re)connection. */
  onConnect(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  /**
   * Calls `listener` for every incoming message dropped unread because its packet is larger than
   * MAX_MQTT_PACKET_BYTES (only a client with write access to our topics can have sent it).
   */
  onOversized(listener: OversizedListener): void {
    this.oversizedListeners.push(listener);
  }

  /**
   * Subscribes (on every connection) and delivers matching messages to `listener`. Several
   * features may listen to one filter: it is subscribed once (a broker answers a SUBSCRIBE that
   * repeats a filter with fewer reason codes than filters, which fails the whole subscription).
   */
  subscribe(filter: string, listener: MessageListener): void {
    this.messageListeners.push(listener);
    if (this.subscriptions.includes(filter)) return;
    this.subscriptions.push(filter);
    if (this.client?.connected) this.client.subscribe(filter, { qos: 1 });
  }

  isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  /** The broker URL without credentials, and the last connection error, for readiness. */
  describe(): { url: string; connected: boolean; error?: string } {
    return { url: safeUrl(this.url), connected: this.isConnected(), error: this.lastError };
  }

  /**
   * Publishes with QoS 1 and resolves true once the broker acknowledged it; false (never throws)
   * if not connected or no PUBACK arrived in time.
   */
  async publish(topic: string, payload: Buffer | string, retain: boolean): Promise<boolean> {
    return publishAcknowledged(this.client, topic, payload, {
      retain,
      timeoutMs: this.settings.mqtt.ackTimeoutMs,
      onError: (error) => this.logger.warn(`Publishing to ${topic} failed: ${error.message}`),
    });
  }

  private onOversizedMessage(topic: string, bytes: number): void {
    this.logger.warn(
      `Dropped a ${bytes}-byte message on ${topic} unread: larger than the MQTT packet limit of ` +
        `${MAX_MQTT_PACKET_BYTES} bytes. Only config-manager publishes configs; find the client ` +
        `that wrote it (broker log) and check the broker ACL and max_packet_size`,
    );
    for (const listener of this.oversizedListeners) listener(topic, bytes);
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    // Client first, then the embedded broker it talks to.
    await this.client?.endAsync();
    await this.embedded.stop();
  }
}
