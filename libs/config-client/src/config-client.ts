// ConfigClient is one state machine (phase, applied, staged, active, confirmed): start-up,
// message verdicts, run swaps, health and stop all move the same few fields, so they stay in
// one class (~570 lines). What is not that state lives beside it: options
// (config-client.options.ts), the rules (envelope-verifier.ts), the last-known-good file, MQTT
// plumbing (mqtt/) and events.
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  type ConfigSource,
  deepFreeze,
  defaultConfig,
  type InstanceStatus,
  type InstanceStatusValue,
  type LastRejection,
  parseConfigTopic,
  REJECTION_REASONS,
  type RejectionReason,
  type ServiceDefinition,
} from '@app/contracts';
import { ConfigClientError, ConfigClientErrorCode } from './config-client.error';
import { type ConfigClientOptions, resolveClientOptions } from './config-client.options';
import {
  type ConfigClientEvents,
  type ConfigClientListener,
  TypedEmitter,
} from './config-client.events';
import { type ConfigClientLogger, SILENT_LOGGER } from './config-client.logger';
import { secretDefaultsOf, withSecretDefaults } from './config-paths';
import { EnvelopeVerifier, type EnvelopeVerdict } from './envelope-verifier';
import { LastKnownGoodStore } from './last-known-good';
import { disableNagle, publishAcknowledged, safeUrl, withTimeout } from './mqtt/mqtt-connection';
import { connectGuarded } from './mqtt/packet-size-guard';

/** What one run sees: a version and its deep-frozen configuration, which never change afterwards. */
export interface ConfigSnapshot<T> {
  readonly version: number;
  /** Deep-frozen plain JSON (the schema class's shape, not an instance of it). */
  readonly config: T;
  readonly schemaDrift: boolean;
  readonly source: ConfigSource;
  /** When this snapshot was taken (by beginRun() or current()). */
  readonly takenAt: string;
}

/** Counters since construction: broker messages accepted, duplicates, rejected by reason. */
export interface ConfigClientStats {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: Readonly<Record<RejectionReason, number>>;
}

interface ConfigState {
  readonly version: number;
  readonly config: Readonly<Record<string, unknown>>;
  readonly schemaDrift: boolean;
  readonly source: ConfigSource;
}

type Phase = 'new' | 'starting' | 'running' | 'stopped';
type InitialOutcome = 'config' | 'rejected' | 'timeout' | 'unreachable' | 'stopped';

// stop() should not hang a shutdown on a broker that went away.
const STOP_TIMEOUT_MS = 2000;

/**
 * The worker side of the config centre: subscribes to its service's signed config, verifies
 * each message (EnvelopeVerifier), stages what it accepts, and swaps it in only at beginRun(),
 * so one run always sees one version. It keeps a last-known-good file, so it starts and refuses
 * replays while the manager or broker is down, and reports its state on its health topic.
 */
export class ConfigClient<T extends object = Record<string, unknown>> {
  private readonly definition: ServiceDefinition;
  private readonly instanceId: string;
  private readonly verifier: EnvelopeVerifier;
  private readonly store: LastKnownGoodStore;
  private readonly logger: ConfigClientLogger;
  private readonly mqttOptions: IClientOptions;
  private readonly maxPacketBytes: number;
  private readonly mqttUrl: string;
  private readonly topicPrefix: string;
  private readonly configTopic: string;
  private readonly healthTopic: string;
  private readonly initialTimeoutMs: number;
  private readonly defaults: ConfigState;
  private readonly events: TypedEmitter<ConfigClientEvents>;

  private phase: Phase = 'new';
  private active: ConfigState;
  private staged: ConfigState | undefined;
  private applied: ConfigState | undefined;
  // The broker delivered (or re-delivered) the applied version: that is what "online" means.
  private confirmed = false;
  private lastRunVersion: number | null = null;
  private lastRejection: LastRejection | undefined;
  private readonly counts = {
    accepted: 0,
    duplicates: 0,
    rejected: zeroCounts(),
  };
  private client: MqttClient | undefined;
  private everConnected = false;
  private lastMqttError: string | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private resolveInitial: ((outcome: InitialOutcome) => void) | undefined;
  private pendingSave: Promise<void> = Promise.resolve();
  private lastStatusValue: InstanceStatusValue | undefined;
  // Set once start() has settled on a config: from then on beginRun() may be called.
  private ready = false;

  constructor(options: ConfigClientOptions) {
    const setup = resolveClientOptions(options);
    this.definition = setup.definition;
    this.instanceId = setup.instanceId;
    this.topicPrefix = setup.topicPrefix;
    this.configTopic = setup.configTopic;
    this.healthTopic = setup.healthTopic;
    this.mqttUrl = setup.mqttUrl;
    this.mqttOptions = setup.mqttOptions;
    this.maxPacketBytes = setup.maxPacketBytes;
    this.initialTimeoutMs = setup.initialTimeoutMs;
    this.verifier = new EnvelopeVerifier({
      definition: setup.definition,
      trustedKeys: options.trustedKeys,
      secretKey: options.secretKey,
      maxEnvelopeBytes: options.maxEnvelopeBytes,
    });
    this.store = new LastKnownGoodStore(options.lkgPath, options.lkgHmacKey);
    this.logger = options.logger ?? SILENT_LOGGER;
    this.events = new TypedEmitter<ConfigClientEvents>((event, error) =>
      this.logger.error(`A "${event}" listener of the config client threw: ${errorMessage(error)}`),
    );
    this.defaults = deepFrozenState({
      version: 0,
      config: withSecretDefaults(
        defaultConfig(setup.definition),
        secretDefaultsOf(setup.definition),
      ),
      schemaDrift: false,
      source: 'defaults',
    });
    this.active = this.defaults;
  }

  /**
   * Loads the last-known-good file, connects, and resolves once the broker's config is accepted
   * (or confirms the last-known-good version), a first message is rejected, the broker is
   * unreachable, or `initialConfigTimeoutMs` passes. Never rejects because the broker is down.
   */
  start(): Promise<void> {
    if (this.phase === 'stopped' && this.starting === undefined) {
      return Promise.reject(
        new ConfigClientError(
          ConfigClientErrorCode.Stopped,
          'this config client was stopped; create a new one',
        ),
      );
    }
    this.starting ??= this.startOnce();
    return this.starting;
  }

  /** Swaps in the newest staged config, if any (the only place the active config changes), and returns its snapshot for this run. */
  beginRun(): ConfigSnapshot<T> {
    if (!this.ready) {
      throw new ConfigClientError(
        ConfigClientErrorCode.NotStarted,
        'beginRun() before start() resolved: await client.start() first (ConfigClientModule does it at bootstrap)',
      );
    }
    if (this.staged !== undefined) {
      this.active = this.staged;
      this.staged = undefined;
      this.logger.log(
        `Runs now use ${this.definition.name} config version ${this.active.version} (${this.active.source})`,
      );
    }
    this.lastRunVersion = this.active.version;
    // Health at every run start (the design's contract): ops see runs happening, and which version.
    this.publishHealth();
    return this.snapshotOf(this.active);
  }

  /** The active snapshot (what the current run uses), without swapping in a staged one. */
  current(): ConfigSnapshot<T> {
    return this.snapshotOf(this.active);
  }

  /** The health payload as it would be published now. */
  status(): InstanceStatus {
    const reference = this.applied ?? this.defaults;
    return {
      service: this.definition.name,
      instanceId: this.instanceId,
      status: this.statusValue(),
      appliedVersion: this.applied?.version ?? 0,
      stagedVersion: (this.staged ?? this.active).version,
      lastRunVersion: this.lastRunVersion,
      ...(this.lastRejection === undefined ? {} : { lastRejection: { ...this.lastRejection } }),
      schemaDrift: reference.schemaDrift,
      source: reference.source,
      rejections: { ...this.counts.rejected },
      at: new Date().toISOString(),
    };
  }

  /** Counters of broker messages (the last-known-good file is not counted). */
  stats(): ConfigClientStats {
    return {
      accepted: this.counts.accepted,
      duplicates: this.counts.duplicates,
      rejected: { ...this.counts.rejected },
    };
  }

  /** Adds a listener; returns a function that removes it. A throwing listener is logged and skipped. */
  on<K extends keyof ConfigClientEvents>(event: K, listener: ConfigClientListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof ConfigClientEvents>(event: K, listener: ConfigClientListener<K>): void {
    this.events.off(event, listener);
  }

  /** Publishes `offline` (retained), disconnects and waits for a pending last-known-good write. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async startOnce(): Promise<void> {
    this.phase = 'starting';
    await this.loadLastKnownGood();
    if (this.phase !== 'starting') {
      return;
    }
    const initial = new Promise<InitialOutcome>((resolve) => {
      this.resolveInitial = resolve;
    });
    const timer = setTimeout(() => this.finishInitial('timeout'), this.initialTimeoutMs);
    this.connect();
    const outcome = await initial;
    clearTimeout(timer);
    if (this.phase !== 'starting') {
      return;
    }
    this.phase = 'running';
    this.ready = true;
    this.logStartOutcome(outcome);
    this.publishHealth();
  }

  private async stopOnce(): Promise<void> {
    this.phase = 'stopped';
    this.finishInitial('stopped');
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      const offline = JSON.stringify(this.status());
      await publishAcknowledged(client, this.healthTopic, offline, {
        retain: true,
        timeoutMs: STOP_TIMEOUT_MS,
        onError: (error) => this.logger.warn(`Could not publish offline status: ${error.message}`),
      });
      const ended = await withTimeout(client.endAsync(), STOP_TIMEOUT_MS).catch(() => false);
      if (ended === false) {
        // The will publishes `offline` for us when the broker notices.
        client.end(true);
      }
    }
    await this.pendingSave;
    this.events.emit('status', this.status());
    this.logger.log(`Config client for ${this.definition.name}/${this.instanceId} stopped`);
  }

  private async loadLastKnownGood(): Promise<void> {
    const path = this.store.path;
    const loaded = await this.store.load(this.definition.name);
    if (loaded.kind === 'missing') {
      this.logger.log(`No last-known-good config at ${path} yet`);
      return;
    }
    if (loaded.kind === 'invalid') {
      this.logger.error(
        `Ignoring last-known-good file ${path}: it ${loaded.reason}. It is not used and will be ` +
          'replaced by the next valid config; if this repeats, check LKG_HMAC_KEY and what else writes that file.',
      );
      return;
    }
    const verdict = this.verifier.verify(loaded.envelopeBytes, {
      topicService: this.definition.name,
      appliedVersion: 0,
    });
    if (verdict.kind !== 'accepted') {
      this.logger.error(
        `Ignoring last-known-good file ${path}: its envelope fails verification ` +
          `(${verdict.kind === 'rejected' ? `${verdict.reason}: ${verdict.detail}` : verdict.kind}). ` +
          'Was the signing key rotated out of the trusted keys, or the schema changed?',
      );
      return;
    }
    this.logger.log(
      `Loaded last-known-good ${this.definition.name} config version ${verdict.version} from ${path} (saved ${loaded.savedAt})`,
    );
    this.accept(verdict, loaded.envelopeBytes, 'lkg');
  }

  private connect(): void {
    const client = connectGuarded(
      this.mqttUrl,
      { ...this.mqttOptions, will: this.willOf(this.status()) },
      {
        maxPacketBytes: this.maxPacketBytes,
        onOversized: (topic, bytes) => this.onOversized(topic, bytes),
      },
    );
    this.client = client;
    client.on('connect', () => {
      disableNagle(client);
      this.lastMqttError = undefined;
      this.logger.log(
        `${this.everConnected ? 'Reconnected' : 'Connected'} to MQTT broker ${safeUrl(this.mqttUrl)}; subscribing to ${this.configTopic}`,
      );
      this.everConnected = true;
      client.subscribe(this.configTopic, { qos: 1 }, (error) => {
        if (error) {
          this.logger.error(
            `Subscribing to ${this.configTopic} failed: ${error.message}. Check the broker ACL for this client.`,
          );
        }
      });
      // A reconnect follows our will (offline) or a broker restart: say where we are again.
      if (this.phase === 'running') {
        this.publishHealth();
      }
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (error) => {
      if (this.lastMqttError !== error.message) {
        this.logger.warn(`MQTT broker ${safeUrl(this.mqttUrl)}: ${error.message}`);
      }
      this.lastMqttError = error.message;
    });
    const onDown = (): void => {
      if (!this.everConnected) {
        this.finishInitial('unreachable');
      }
    };
    client.on('offline', () => {
      onDown();
      if (this.phase === 'running') {
        this.logger.warn(
          `MQTT broker ${safeUrl(this.mqttUrl)} unreachable: runs continue on version ${(this.staged ?? this.active).version}; reconnecting`,
        );
      }
    });
    client.on('close', onDown);
  }

  private onMessage(topic: string, bytes: Buffer): void {
    if (this.phase === 'stopped' || this.phase === 'new') {
      return;
    }
    const topicService = topic.startsWith(this.topicPrefix)
      ? parseConfigTopic(topic.slice(this.topicPrefix.length))?.service
      : undefined;
    const verdict = this.verifier.verify(bytes, {
      topicService,
      appliedVersion: this.applied?.version ?? 0,
    });
    switch (verdict.kind) {
      case 'accepted':
        this.accept(verdict, bytes, 'broker');
        break;
      case 'duplicate':
        this.counts.duplicates += 1;
        if (!this.confirmed && this.applied?.version === verdict.version) {
          this.confirmed = true;
          this.logger.log(
            `The broker confirms ${this.definition.name} config version ${verdict.version} (the last-known-good one)`,
          );
          this.publishHealth();
        }
        this.finishInitial('config');
        break;
      case 'rejected':
        this.reject(verdict, topic);
        break;
    }
  }

  // Rule 0 for a message too large to read at all: the guard skipped it as it arrived.
  private onOversized(topic: string, bytes: number): void {
    if (this.phase === 'stopped' || this.phase === 'new') {
      return;
    }
    const detail = `the MQTT packet is ${bytes} bytes, more than the limit of ${this.maxPacketBytes}; dropped unread`;
    if (topic !== this.configTopic) {
      this.logger.warn(`Dropped a message on ${topic}: ${detail}`);
      return;
    }
    this.reject({ kind: 'rejected', reason: 'oversized', detail }, topic);
  }

  private accept(
    verdict: Extract<EnvelopeVerdict, { kind: 'accepted' }>,
    bytes: Buffer,
    source: 'broker' | 'lkg',
  ): void {
    const state = deepFrozenState({
      version: verdict.version,
      config: verdict.config,
      schemaDrift: verdict.schemaDrift,
      source,
    });
    this.applied = state;
    this.staged = state;
    if (source === 'broker') {
      this.confirmed = true;
      this.counts.accepted += 1;
      this.logger.log(
        `Accepted ${this.definition.name} config version ${verdict.version}; staged for the next run`,
      );
      this.persist(bytes);
    }
    if (verdict.schemaDrift) {
      this.logger.warn(
        `${this.definition.name} config version ${verdict.version} was built for schema ${verdict.payload.schemaHash ?? '(none)'}, ` +
          `this worker has ${this.definition.schemaHash} (schemaDrift): deploy matching versions of the manager and this worker`,
      );
    }
    this.publishHealth();
    this.events.emit('accepted', {
      version: verdict.version,
      schemaDrift: verdict.schemaDrift,
      source,
    });
    if (source === 'broker') {
      this.finishInitial('config');
    }
  }

  private reject(verdict: Extract<EnvelopeVerdict, { kind: 'rejected' }>, topic: string): void {
    const at = new Date().toISOString();
    this.counts.rejected[verdict.reason] += 1;
    this.lastRejection =
      verdict.version === undefined
        ? { reason: verdict.reason, at }
        : { version: verdict.version, reason: verdict.reason, at };
    this.logger.warn(
      `Rejected a config message on ${topic} (${verdict.reason}${verdict.version === undefined ? '' : `, version ${verdict.version}`}): ` +
        `${verdict.detail}. Still on version ${(this.staged ?? this.active).version}.`,
    );
    this.publishHealth();
    this.events.emit('rejected', {
      reason: verdict.reason,
      ...(verdict.version === undefined ? {} : { version: verdict.version }),
      detail: verdict.detail,
      at,
    });
    this.finishInitial('rejected');
  }

  private persist(bytes: Buffer): void {
    const path = this.store.path;
    this.pendingSave = this.store.save(bytes, this.definition.name).catch((error: unknown) => {
      this.logger.error(
        `Could not write the last-known-good file ${path}: ${errorMessage(error)}. ` +
          'The worker keeps running, but a restart without the broker would fall back further.',
      );
    });
  }

  private publishHealth(): void {
    const status = this.status();
    const client = this.client;
    if (client !== undefined) {
      // The broker reads the will at CONNECT: keep it current for the next reconnection.
      client.options.will = this.willOf(status);
      if (client.connected && this.phase !== 'stopped') {
        client.publish(
          this.healthTopic,
          JSON.stringify(status),
          { qos: 1, retain: true },
          (error) => {
            if (error) {
              this.logger.warn(`Could not publish health to ${this.healthTopic}: ${error.message}`);
            }
          },
        );
      }
    }
    if (status.status !== this.lastStatusValue && this.phase !== 'starting') {
      this.lastStatusValue = status.status;
      this.logger.log(`Status ${status.status} (applied version ${status.appliedVersion})`);
    }
    this.events.emit('status', status);
  }

  private willOf(status: InstanceStatus): NonNullable<IClientOptions['will']> {
    return {
      topic: this.healthTopic,
      payload: Buffer.from(JSON.stringify({ ...status, status: 'offline' })),
      qos: 1,
      retain: true,
    };
  }

  private finishInitial(outcome: InitialOutcome): void {
    const resolve = this.resolveInitial;
    this.resolveInitial = undefined;
    resolve?.(outcome);
  }

  private logStartOutcome(outcome: InitialOutcome): void {
    const why = {
      config: 'the broker delivered it',
      rejected: 'the broker sent a config that was rejected',
      timeout: `nothing valid arrived within ${this.initialTimeoutMs} ms`,
      unreachable: `the broker ${safeUrl(this.mqttUrl)} is unreachable`,
      stopped: 'stopped',
    }[outcome];
    const next = this.staged ?? this.active;
    if (this.statusValue() === 'online') {
      this.logger.log(`Running on ${this.definition.name} config version ${next.version} (${why})`);
    } else if (next.source === 'lkg') {
      this.logger.warn(
        `Running degraded on the last-known-good ${this.definition.name} config version ${next.version} ` +
          `(${why}); a valid config from the broker will replace it`,
      );
    } else {
      this.logger.warn(
        `Running degraded on the ${this.definition.name} schema defaults (${why}, no usable ` +
          'last-known-good file); a valid config from the broker will replace them',
      );
    }
  }

  private statusValue(): InstanceStatusValue {
    if (this.phase === 'stopped') {
      return 'offline';
    }
    return this.applied !== undefined && this.confirmed ? 'online' : 'degraded';
  }

  private snapshotOf(state: ConfigState): ConfigSnapshot<T> {
    return Object.freeze({
      version: state.version,
      // The schema class's shape as plain, frozen JSON: T describes it, it is not an instance.
      config: state.config as T,
      schemaDrift: state.schemaDrift,
      source: state.source,
      takenAt: new Date().toISOString(),
    });
  }
}

function deepFrozenState(state: ConfigState): ConfigState {
  return Object.freeze({ ...state, config: deepFreeze(state.config) });
}

function zeroCounts(): Record<RejectionReason, number> {
  return Object.fromEntries(REJECTION_REASONS.map((reason) => [reason, 0])) as Record<
    RejectionReason,
    number
  >;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
