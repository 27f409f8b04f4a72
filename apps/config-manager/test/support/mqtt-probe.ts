import { connectAsync, IClientOptions, MqttClient } from 'mqtt';

/** A message the probe received. */
export interface ProbeMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/**
 * A plain MQTT subscriber, as a worker in any language would be: it records every message
 * (raw bytes included, so tests can prove what never crossed the wire) and waits for one.
 */
export class MqttProbe {
  readonly messages: ProbeMessage[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain });
      for (const wake of [...this.waiters]) wake();
    });
  }

  static async connect(
    url: string,
    filters: string[],
    options: IClientOptions = {},
  ): Promise<MqttProbe> {
    const client = await connectAsync(url, {
      reconnectPeriod: 200,
      connectTimeout: 3000,
      ...options,
    });
    const probe = new MqttProbe(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return probe;
  }

  /** Resolves with the first message (already received or arriving) that matches. */
  async waitFor(
    match: (m: ProbeMessage) => boolean,
    timeoutMs = 5000,
    what = 'message',
  ): Promise<ProbeMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `no ${what} within ${timeoutMs} ms; got ${this.messages.map((m) => m.topic).join(', ') || 'nothing'}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.push(wake);
      });
    }
  }

  /** Subscribes; a subscription a broker's ACL refuses may be acknowledged or refused, both are fine. */
  async subscribe(filter: string): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
  }

  /** QoS 1: resolves on the broker's PUBACK, i.e. once the broker has handled the message. */
  async publish(topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Publishes a retained QoS 1 message, as any client with write access could. */
  async publishRetained(topic: string, payload: Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  /** Every byte received, for scanning. */
  rawBytes(): Buffer {
    return Buffer.concat(this.messages.map((m) => m.payload));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
