import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { candidateTopic, configTopic } from '@app/contracts';
import { pause } from '@app/testing';

const SERVICE = 'dedup-worker';
const HEALTH_FILTER = `system/health/${SERVICE}/+`;
const RETAINED_WAIT_MS = 1000;

/** A worker health message published while the observer was subscribed (not a retained copy). */
export interface HealthEvent {
  instanceId: string;
  status: string;
  appliedVersion: number;
  /** Runs finished on the version of its last run, when it reports them. */
  runs?: { version: number; completed: number; failed: number };
  /** It said its config is stale (CONFIG_MAX_STALENESS), when the payload says. */
  stale?: boolean;
  /** When its applied version was last attested (`attestedAt`), if the payload says. */
  attestedAt?: string;
  /** When the worker wrote it (its `at`), if the payload says. */
  at?: string;
  /** When the observer received it (Date.now()). */
  receivedAt: number;
}

/** A rollout candidate seen on system/candidate/dedup-worker (unverified), or its clearing. */
export interface CandidateMessage {
  /** An empty retained message: the manager cleared the candidate. */
  cleared: boolean;
  /** The version the payload claims (undefined when cleared or unreadable). */
  version: number | undefined;
  /** The cohort the payload names. */
  instances: string[];
}

/** A config message seen on the bus: its bytes and the version its payload claims (unverified). */
export interface ConfigMessage {
  version: number | undefined;
  bytes: Buffer;
}

export interface ObserverCredentials {
  username?: string;
  password?: string;
}

/**
 * An MQTT subscriber that records, from the bus itself, what workers report on
 * system/health/dedup-worker/+ and which config versions cross system/config/dedup-worker.
 * Retained copies are left out of the health record: a broker restored from an older
 * persistence file replays old states that are not new events. It reconnects on its own.
 */
export class BusObserver {
  readonly health: HealthEvent[] = [];
  /** Every config message seen, retained copies included. */
  readonly configs: ConfigMessage[] = [];
  /** Every rollout candidate message seen, retained copies included. */
  readonly candidates: CandidateMessage[] = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly url: string,
    /** The reader's own: the broker uses the username as client id, one connection per user. */
    private readonly readerCredentials: ObserverCredentials,
  ) {
    client.on('message', (topic, payload, packet) => {
      if (topic === configTopic(SERVICE)) {
        this.configs.push({ version: payloadVersion(payload), bytes: payload });
      } else if (topic === candidateTopic(SERVICE)) {
        this.candidates.push(candidateMessage(payload));
      } else if (!packet.retain) {
        const event = healthEvent(payload);
        if (event) this.health.push(event);
      }
    });
  }

  /** `reader` logs in the short-lived subscriber of retainedConfigVersion(). */
  static async connect(
    url: string,
    credentials: ObserverCredentials,
    reader: ObserverCredentials,
  ): Promise<BusObserver> {
    const client = await connectAsync(url, {
      ...credentials,
      clientId: `chaos-observer-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 200,
      connectTimeout: 3000,
    });
    // Listening before subscribing: retained messages follow the SUBACK at once.
    const observer = new BusObserver(client, url, reader);
    await client.subscribeAsync([configTopic(SERVICE), candidateTopic(SERVICE), HEALTH_FILTER], {
      qos: 1,
    });
    return observer;
  }

  /** The version of the config the broker retains now, as a new subscriber gets it. */
  async retainedConfigVersion(): Promise<number | undefined> {
    const bytes = await this.retainedConfig();
    return bytes === undefined ? undefined : payloadVersion(bytes);
  }

  /** The config envelope the broker retains now (its bytes), as a new subscriber gets it. */
  async retainedConfig(): Promise<Buffer | undefined> {
    const client = await connectAsync(this.url, {
      ...this.readerCredentials,
      clientId: `chaos-reader-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    try {
      const retained = new Promise<Buffer>((resolve) =>
        client.once('message', (_topic, payload) => resolve(payload)),
      );
      // A retained message is sent right after the SUBACK; without one, nothing comes.
      await client.subscribeAsync(configTopic(SERVICE), { qos: 1 });
      return await Promise.race([retained, pause(RETAINED_WAIT_MS).then(() => undefined)]);
    } finally {
      await client.endAsync(true);
    }
  }

  /**
   * Instances whose live health reports ever showed a lower applied version than an earlier
   * report (an `offline` last will is left out: the broker wrote it at connect time). A report
   * written before one already seen (its `at`) is not the worker's new state but an old one
   * delivered again, as a bridge does when it reconnects (replays()), and is left out too.
   */
  regressions(): string[] {
    const highest = new Map<string, number>();
    const found: string[] = [];
    for (const event of this.written()) {
      const before = highest.get(event.instanceId) ?? 0;
      if (event.appliedVersion < before) {
        found.push(`${event.instanceId} reported v${event.appliedVersion} after v${before}`);
      }
      highest.set(event.instanceId, Math.max(before, event.appliedVersion));
    }
    return found;
  }

  /**
   * Live reports that were not the worker's newest when they arrived: written (`at`) no later
   * than one of the same instance seen before them (a bridge's resync after a partition).
   */
  replays(): HealthEvent[] {
    const newest = new Map<string, string>();
    const replayed: HealthEvent[] = [];
    for (const event of this.health) {
      if (event.status === 'offline' || event.at === undefined) continue;
      const before = newest.get(event.instanceId);
      if (before !== undefined && event.at <= before) replayed.push(event);
      else newest.set(event.instanceId, event.at);
    }
    return replayed;
  }

  /** The live reports other than last wills and replays(), in order of arrival. */
  private written(): HealthEvent[] {
    const replayed = new Set(this.replays());
    return this.health.filter((e) => e.status !== 'offline' && !replayed.has(e));
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function healthEvent(payload: Buffer): HealthEvent | undefined {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as Partial<HealthEvent>;
    const at = typeof parsed.at === 'string' ? { at: parsed.at } : {};
    const runs = parsed.runs;
    return typeof parsed.instanceId === 'string' &&
      typeof parsed.status === 'string' &&
      typeof parsed.appliedVersion === 'number'
      ? {
          instanceId: parsed.instanceId,
          status: parsed.status,
          appliedVersion: parsed.appliedVersion,
          ...(typeof runs?.version === 'number' &&
          typeof runs.completed === 'number' &&
          typeof runs.failed === 'number'
            ? { runs: { version: runs.version, completed: runs.completed, failed: runs.failed } }
            : {}),
          ...(typeof parsed.stale === 'boolean' ? { stale: parsed.stale } : {}),
          ...(typeof parsed.attestedAt === 'string' ? { attestedAt: parsed.attestedAt } : {}),
          ...at,
          receivedAt: Date.now(),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

function candidateMessage(envelope: Buffer): CandidateMessage {
  if (envelope.length === 0) return { cleared: true, version: undefined, instances: [] };
  try {
    const { payload } = JSON.parse(envelope.toString('utf8')) as { payload: string };
    const parsed = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as {
      version?: unknown;
      rollout?: { instances?: unknown };
    };
    const instances = parsed.rollout?.instances;
    return {
      cleared: false,
      version: typeof parsed.version === 'number' ? parsed.version : undefined,
      instances: Array.isArray(instances)
        ? instances.filter((i): i is string => typeof i === 'string')
        : [],
    };
  } catch {
    return { cleared: false, version: undefined, instances: [] };
  }
}

function payloadVersion(envelope: Buffer): number | undefined {
  try {
    const { payload } = JSON.parse(envelope.toString('utf8')) as { payload: string };
    const { version } = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as {
      version: unknown;
    };
    return typeof version === 'number' ? version : undefined;
  } catch {
    return undefined;
  }
}
