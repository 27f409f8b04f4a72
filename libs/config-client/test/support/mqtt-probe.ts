import { connectAsync, type MqttClient } from 'mqtt';

/** A message the probe received. */
export interface ProbeMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

/** A plain MQTT client, as the manager or an operator would be: publishes and records what arrives. */
export class MqttProbe {
  readonly messages: ProbeMessage[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain });
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Connects and subscribes to `filters` (QoS 1). */
  static async connect(url: string, filters: string[] = []): Promise<MqttProbe> {
    const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000 });
    const probe = new MqttProbe(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return probe;
  }

  /** Resolves with the first message (received already or later) that matches; fails after `timeoutMs`. */
  async waitFor(
    match: (message: ProbeMessage) => boolean,
    what: string,
    timeoutMs = 5000,
  ): Promise<ProbeMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`no ${what} within ${timeoutMs} ms (${this.messages.length} messages)`);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
  }

  /** Publishes with QoS 1 (retained unless told otherwise), as the manager does. */
  async publish(topic: string, payload: Buffer, retain = true): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
