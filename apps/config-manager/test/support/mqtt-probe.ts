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
  /** Whether the connection ever closed (the broker dropped it, or `close()`). */
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain });
      this.wakeAll();
    });
    client.on('close', () => {
      this.closed = true;
      this.wakeAll();
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
    return this.until(
      () => this.messages.find(match),
      timeoutMs,
      () =>
        `no ${what} within ${timeoutMs} ms; got ${this.messages.map((m) => m.topic).join(', ') || 'nothing'}`,
    );
  }

  /** Resolves once the connection has closed (a probe without reconnects: the broker dropped it). */
  async waitForClose(timeoutMs = 5000, what = 'connection'): Promise<void> {
    await this.until(
      () => this.closed || undefined,
      timeoutMs,
      () => `${what} still open after ${timeoutMs} ms`,
    );
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

  /** Waits, woken by every message and by the close, until `check` returns something. */
  private async until<T>(
    check: () => T | undefined,
    timeoutMs: number,
    failure: () => string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found !== undefined) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(failure());
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

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
