import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  CONFIG_TOPIC_FILTER,
  ConfigPayload,
  MANAGER_HEALTH_TOPIC,
  SignedEnvelope,
  configTopic,
  parseConfigTopic,
} from '@app/contracts';
import { Ed25519Verifier } from '@app/crypto';
import type { ConfigState } from '../configs/config-state';
import { ConfigsService, VersionPublisher } from '../configs/configs.service';
import { ServiceEntity } from '../configs/entities/service.entity';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DatabaseService } from '../database/database.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import { MetricsService } from '../metrics/metrics.service';
import { EnvelopeBuilderService } from './envelope-builder.service';
import { offlineStatus, onlineStatus } from './manager-status';

/** A config envelope seen on the bus, parsed but not yet verified. */
interface BusEnvelope {
  envelope: SignedEnvelope;
  payloadBytes: Buffer;
  version: number;
}

/** Parses an envelope for `service`; undefined if it is not one. Does not verify it. */
function readEnvelope(service: string, bytes: Buffer): BusEnvelope | undefined {
  try {
    const envelope = JSON.parse(bytes.toString('utf8')) as SignedEnvelope;
    const payloadBytes = Buffer.from(envelope.payload, 'base64');
    const payload = JSON.parse(payloadBytes.toString('utf8')) as ConfigPayload;
    if (payload.service !== service || !Number.isInteger(payload.version)) return undefined;
    return { envelope, payloadBytes, version: payload.version };
  } catch {
    return undefined;
  }
}

/** How often versions the broker has not acknowledged are published again. */
const SWEEP_INTERVAL_MS = 5000;
/** Seconds a client should wait before retrying a republish while the broker is away. */
export const BROKER_RETRY_AFTER_SECONDS = 5;

/**
 * Publishes every committed version, signed and retained, on `system/config/<service>`.
 * The database is the source of truth: a version is committed first and published after; the
 * highest acknowledged version per service is the outbox mark (services.published_version), and
 * anything above it is published again by a periodic sweep. On every (re)connection the current
 * version of every service is republished, which also heals a broker that lost its retained
 * messages. Replicas learn of each other's writes from the retained messages they receive.
 */
@Injectable()
export class ConfigPublisherService
  implements
    VersionPublisher,
    OnApplicationBootstrap,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private readonly logger = new Logger(ConfigPublisherService.name);
  /** Highest version the broker acknowledged, per service. */
  private readonly acknowledged = new Map<string, number>();
  /** Highest version handed to the client, per service: an older one is never sent after it. */
  private readonly sent = new Map<string, number>();
  /** Highest version seen on the bus, per service (our own publishes echo back). */
  private readonly seenOnBus = new Map<string, number>();
  private readonly verifiers: ReadonlyMap<string, Ed25519Verifier>;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly connection: BrokerConnectionService,
    private readonly envelopes: EnvelopeBuilderService,
    private readonly configs: ConfigsService,
    private readonly db: DatabaseService,
    private readonly metrics: MetricsService,
  ) {
    const { keyId, publicKey, previous } = settings.signing;
    this.verifiers = new Map([
      [keyId, new Ed25519Verifier(publicKey)],
      ...previous.map((p): [string, Ed25519Verifier] => [p.kid, new Ed25519Verifier(p.publicKey)]),
    ]);
  }

  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.db.read((m) => m.find(ServiceEntity));
    for (const row of rows) this.acknowledged.set(row.name, row.publishedVersion ?? 0);
    this.configs.attachPublisher(this);
    this.connection.subscribe(this.connection.topic(CONFIG_TOPIC_FILTER), (topic, payload) =>
      this.onBusMessage(topic, payload),
    );
    this.connection.onConnect(() => void this.republishAll());
    await this.connection.start({
      topic: this.connection.topic(MANAGER_HEALTH_TOPIC),
      payload: JSON.stringify(offlineStatus(this.settings.mqtt.clientId)),
    });
    this.sweepTimer = setInterval(() => void this.publishPending(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.connection.publish(
      this.connection.topic(MANAGER_HEALTH_TOPIC),
      JSON.stringify(offlineStatus(this.settings.mqtt.clientId)),
      true,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  isPublished(service: string, version: number): boolean {
    return (this.acknowledged.get(service) ?? 0) >= version;
  }

  /** Publishes a committed state; false if the broker did not acknowledge it (the sweep retries). */
  async publish(state: ConfigState): Promise<boolean> {
    if (state.version < (this.sent.get(state.service) ?? 0)) {
      // A newer version already went out; sending this one would roll the retained message back.
      return this.isPublished(state.service, state.version);
    }
    this.sent.set(state.service, state.version);
    const ok = await this.connection.publish(
      this.connection.topic(configTopic(state.service)),
      this.envelopes.build(state),
      true,
    );
    if (ok) await this.markAcknowledged(state.service, state.version);
    else this.metrics.publishFailed(state.service);
    return ok;
  }

  /** Publishes the current version of a service again (admin endpoint); 503 if the broker is away. */
  async republish(service: string): Promise<{ service: string; version: number; published: true }> {
    const state = await this.freshState(service);
    if (!(await this.publish(state))) {
      throw new DomainError(
        ErrorCode.BrokerUnavailable,
        `The MQTT broker did not acknowledge ${service} version ${state.version}; it will be published when the broker is reachable`,
        undefined,
        BROKER_RETRY_AFTER_SECONDS,
      );
    }
    return { service, version: state.version, published: true };
  }

  private async republishAll(): Promise<void> {
    const versions: Record<string, number> = {};
    for (const state of this.configs.list()) {
      const current = await this.freshState(state.service);
      versions[current.service] = current.version;
      const ok = await this.publish(current);
      if (!ok)
        this.logger.warn(
          `Could not publish ${current.service} v${current.version} on connect; will retry`,
        );
    }
    await this.connection.publish(
      this.connection.topic(MANAGER_HEALTH_TOPIC),
      JSON.stringify(onlineStatus(this.settings.mqtt.clientId, versions)),
      true,
    );
  }

  private async publishPending(): Promise<void> {
    if (!this.connection.isConnected()) return;
    for (const state of this.configs.list()) {
      if (!this.isPublished(state.service, state.version)) await this.publish(state);
    }
  }

  /** The committed current state, re-read from the database when it is reachable (another replica may have written). */
  private async freshState(service: string): Promise<ConfigState> {
    if (!this.db.isAvailable()) return this.configs.current(service);
    try {
      return await this.configs.refresh(service);
    } catch {
      return this.configs.current(service);
    }
  }

  /** A retained envelope seen on the bus: learn of newer versions, repair older ones. */
  private onBusMessage(topic: string, bytes: Buffer): void {
    const parsed = parseConfigTopic(topic.slice(this.settings.mqtt.topicPrefix.length));
    if (!parsed) return;
    const service = parsed.service;
    const current = this.configs.list().find((s) => s.service === service);
    const message = current ? readEnvelope(service, bytes) : undefined;
    if (!current || !message) return;
    const seen = this.seenOnBus.get(service) ?? 0;
    this.seenOnBus.set(service, Math.max(seen, message.version));
    if (message.version > current.version) {
      if (!this.isAuthentic(message)) return;
      this.logger.log(
        `${service} v${message.version} was published by another replica; refreshing`,
      );
      void this.configs.refresh(service).catch(() => undefined);
    } else if (message.version < current.version && seen >= current.version) {
      // Our version was on the bus and an older one replaced it (a stale replica): put ours
      // back. An older version arriving before ours was seen is just our own earlier publish
      // echoing late, and needs nothing.
      if (!this.isAuthentic(message) || !this.connection.isConnected()) return;
      this.logger.warn(
        `${service} v${message.version} replaced v${current.version} on the broker; republishing v${current.version}`,
      );
      this.sent.delete(service);
      void this.publish(current);
    }
  }

  private isAuthentic(message: BusEnvelope): boolean {
    const verifier = this.verifiers.get(message.envelope.kid);
    return (
      verifier?.verify(message.payloadBytes, Buffer.from(message.envelope.sig, 'base64')) ?? false
    );
  }

  private async markAcknowledged(service: string, version: number): Promise<void> {
    if (version <= (this.acknowledged.get(service) ?? 0)) return;
    this.acknowledged.set(service, version);
    this.metrics.versionPublished(service);
    try {
      await this.db.transaction((m) =>
        m
          .createQueryBuilder()
          .update(ServiceEntity)
          .set({ publishedVersion: version })
          .where(
            'name = :service AND (published_version IS NULL OR published_version < :version)',
            {
              service,
              version,
            },
          )
          .execute(),
      );
    } catch {
      // Best effort: the mark only saves a republish after a restart, which happens anyway.
    }
  }
}
