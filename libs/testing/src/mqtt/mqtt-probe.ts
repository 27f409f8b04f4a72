import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { ChangeSignal } from '../waiting/change-signal';

/** A message the probe received. */
export interface ProbeMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

/**
 * A plain MQTT client, as a worker in any language, the manager or an operator would be: it
 * records every message (raw bytes included, so tests can prove what never crossed the wire),
 * waits for one, and publishes with QoS 1.
 */
export class MqttProbe {
  readonly messages: ProbeMessage[] = [];
  /** Whether the connection ever closed (the broker dropped it, or `close()`). */
  closed = false;
  private readonly changes = new ChangeSignal();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain });
      this.changes.notify();
    });
    client.on('close', () => {
      this.closed = true;
      this.changes.notify();
    });
  }

  /** Connects (reconnecting every 200 ms unless `options` say otherwise) and subscribes to `filters` (QoS 1). */
  static async connect(
    url: string,
    filters: string[] = [],
    options: IClientOptions = {},
  ): Promise<MqttProbe> {
    const client = await connectAsync(url, {
      reconnectPeriod: 200,
      connectTimeout: 3000,
      ...options,
    });
    // Listening before subscribing: retained messages follow the SUBACK at once.
    const probe = new MqttProbe(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return probe;
  }

  /** Resolves with the first message (already received or arriving) that matches; fails after `timeoutMs`. */
  async waitFor(
    match: (message: ProbeMessage) => boolean,
    what = 'message',
    timeoutMs = 5000,
  ): Promise<ProbeMessage> {
    return this.changes.until(
      () => this.messages.find(match),
      timeoutMs,
      () =>
        `no ${what} within ${timeoutMs} ms; got ${this.messages.map((m) => m.topic).join(', ') || 'nothing'}`,
    );
  }

  /** Resolves once the connection has closed (a probe without reconnects: the broker dropped it). */
  async waitForClose(what = 'connection', timeoutMs = 5000): Promise<void> {
    await this.changes.until(
      () => this.closed || undefined,
      timeoutMs,
      () => `${what} still open after ${timeoutMs} ms`,
    );
  }

  /** Subscribes; a subscription a broker's ACL refuses may be acknowledged or refused, both are fine. */
  async subscribe(filter: string): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
  }

  /**
   * Publishes with QoS 1 (retained unless told otherwise, as the manager publishes): resolves on
   * the broker's PUBACK, i.e. once the broker has handled the message.
   */
  async publish(topic: string, payload: string | Buffer, retain = true): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Publishes a retained QoS 1 message, as any client with write access could. */
  async publishRetained(topic: string, payload: Buffer): Promise<void> {
    await this.publish(topic, payload, true);
  }

  /** Every byte received, for scanning. */
  rawBytes(): Buffer {
    return Buffer.concat(this.messages.map((m) => m.payload));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
