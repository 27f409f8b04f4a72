// ConfigClient is one state machine (phase, applied, staged, active, confirmed, and for a
// client without its own schema the signed schemas and the config waiting for one): start-up,
// message verdicts, run swaps, health and stop all move the same few fields, so they stay in
// one class (~930 lines; rollouts added the candidate topic and run outcomes, which move the
// same fields). What is not that state lives beside it: options
// (config-client.options.ts), the rules (envelope-verifier.ts, signed-schemas.ts), the
// last-known-good file, MQTT plumbing (mqtt/) and events.
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  type ConfigClass,
  type ConfigSource,
  deepFreeze,
  defaultConfig,
  type InstanceStatus,
  type InstanceStatusValue,
  type LastRejection,
  type LastRun,
  parseCandidateTopic,
  parseConfigTopic,
  parseSchemaTopic,
  readDateTime,
  REJECTION_REASONS,
  type RejectionReason,
  type RunCounts,
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
import { type CandidateRollout, EnvelopeVerifier, type EnvelopeVerdict } from './envelope-verifier';
import { type LastKnownGoodLoad, LastKnownGoodStore, LKG_FORMAT } from './last-known-good';
import { type SchemaVerdict, type SignedSchema, SignedSchemaStore } from './signed-schemas';
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

/** How a run ended, for endRun(). */
export interface RunOutcome {
  /** The run finished its work; false: it failed (threw, or gave up). */
  readonly ok: boolean;
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
  /** The rollout whose candidate this version is (from the candidate topic, or a saved candidate). */
  readonly rollout?: CandidateRollout;
}

type Phase = 'new' | 'starting' | 'running' | 'stopped';
type InitialOutcome = 'config' | 'rejected' | 'archived' | 'timeout' | 'unreachable' | 'stopped';
type Accepted = Extract<EnvelopeVerdict, { kind: 'accepted' }>;

/** A config message that passed rules 0-4 and waits for the signed schema it names. */
interface HeldConfig {
  readonly topic: string;
  readonly bytes: Buffer;
  readonly version: number;
  readonly schemaHash: string;
}

// stop() should not hang a shutdown on a broker that went away.
const STOP_TIMEOUT_MS = 2000;
// The SUBACK return code of a refused subscription.
const SUBACK_FAILURE = 128;
// Routine run outcomes (another completed run on the same version) reach health at most this often.
const RUN_HEALTH_INTERVAL_MS = 1000;

/**
 * The worker side of the config centre: subscribes to its service's signed config, verifies
 * each message (EnvelopeVerifier), stages what it accepts, and swaps it in only at beginRun(),
 * so one run always sees one version. It keeps a last-known-good file, so it starts and refuses
 * replays while the manager or broker is down, and reports its state on its health topic.
 * Without a schema of its own it also follows the service's signed schema topic and validates
 * each config with the signed schema it was built for. It follows the service's candidate topic
 * too (rollouts, docs/rollouts.md): a candidate whose cohort names this instance is staged like
 * any version, and endRun() reports how runs end, which the rollout's bake and rollback read.
 */
export class ConfigClient<T extends object = Record<string, unknown>> {
  private readonly service: string;
  /** Our own schema; undefined: configs validate with signed schemas (signedSchemas). */
  private readonly definition: ServiceDefinition | undefined;
  private readonly signedSchemas: SignedSchemaStore | undefined;
  private readonly instanceId: string;
  private readonly verifier: EnvelopeVerifier;
  private readonly store: LastKnownGoodStore;
  private readonly logger: ConfigClientLogger;
  private readonly mqttOptions: IClientOptions;
  private readonly maxPacketBytes: number;
  private readonly mqttUrl: string;
  private readonly topicPrefix: string;
  private readonly configTopic: string;
  private readonly candidateTopic: string;
  private readonly schemaTopic: string | undefined;
  private readonly healthTopic: string;
  private readonly labels: Readonly<Record<string, string>>;
  private readonly initialTimeoutMs: number;
  private readonly maxStalenessMs: number;
  private readonly events: TypedEmitter<ConfigClientEvents>;

  // Without our own schema, the defaults are the newest signed schema's (none before one arrives).
  private defaults: ConfigState;
  private defaultsSchemaVersion = 0;
  // The newest config whose signed schema has not arrived yet (the two topics' retained
  // messages come in either order); verified again when a schema with its hash does.
  private held: HeldConfig | undefined;
  // The tombstone already reported, so its retained copy on every reconnect stays quiet.
  private archivedVersion: number | undefined;

  private phase: Phase = 'new';
  private active: ConfigState;
  private staged: ConfigState | undefined;
  private applied: ConfigState | undefined;
  // The broker delivered (or re-delivered) the applied version: that is what "online" means.
  private confirmed = false;
  private lastRunVersion: number | null = null;
  private lastRejection: LastRejection | undefined;
  // Run outcomes (endRun): the counts on the version of the last finished run, and that run.
  private runs: RunCounts | undefined;
  private lastRun: LastRun | undefined;
  // The snapshots beginRun() returned whose run has not ended yet.
  private readonly openRuns = new WeakSet<object>();
  private runsTimer: NodeJS.Timeout | undefined;
  private lastHealthAt = 0;
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
  // Saves started and settled (they run in order): a status naming a version goes to the broker
  // only once the save of that version settled, so an applied report means the file is on disk.
  private savesStarted = 0;
  private savesSettled = 0;
  // The newest status waiting for a save, and how many saves must have settled first.
  // The newest status handed to the broker: the will (offline) repeats it.
  private lastSentStatus: InstanceStatus | undefined;
  private healthAfterSave: { readonly status: InstanceStatus; readonly saves: number } | undefined;
  private lastStatusValue: InstanceStatusValue | undefined;
  // Set once start() has settled on a config: from then on beginRun() may be called.
  private ready = false;
  // Freshness (docs/recovery.md): when the applied version was last attested (ms; its
  // acceptance or a heartbeat's re-signed copy, capped at our clock), and since when we run.
  private attestedAt: number | undefined;
  private startedAt = 0;
  // The staleness last reported (logged once per transition), and the timer that notices the next.
  private reportedStale = false;
  private freshnessTimer: NodeJS.Timeout | undefined;
  // The signed schema envelope the applied version was validated with: an attestation rewrites both.
  private appliedSchemaBytes: Buffer | undefined;

  /** With a configuration class as `schema`, the client (and every snapshot) is typed by it. */
  constructor(options: ConfigClientOptions<T> & { readonly schema: ConfigClass<T> });
  /** With a JSON Schema, a registered service or the signed schema, name T yourself (unchecked). */
  constructor(options: ConfigClientOptions);
  constructor(options: ConfigClientOptions) {
    const setup = resolveClientOptions(options);
    this.service = setup.service;
    this.definition = setup.definition;
    this.signedSchemas = setup.definition === undefined ? new SignedSchemaStore() : undefined;
    this.instanceId = setup.instanceId;
    this.topicPrefix = setup.topicPrefix;
    this.configTopic = setup.configTopic;
    this.candidateTopic = setup.candidateTopic;
    this.schemaTopic = setup.schemaTopic;
    this.healthTopic = setup.healthTopic;
    this.labels = setup.labels;
    this.mqttUrl = setup.mqttUrl;
    this.mqttOptions = setup.mqttOptions;
    this.maxPacketBytes = setup.maxPacketBytes;
    this.initialTimeoutMs = setup.initialTimeoutMs;
    this.maxStalenessMs = setup.maxStalenessMs;
    this.verifier = new EnvelopeVerifier({
      service: setup.service,
      definition: setup.definition,
      trustedKeys: options.trustedKeys,
      secretKey: options.secretKey,
      previousSecretKeys: options.previousSecretKeys,
      maxEnvelopeBytes: options.maxEnvelopeBytes,
    });
    this.store = new LastKnownGoodStore(
      options.lkgPath,
      options.lkgHmacKey,
      setup.instanceId,
      options.lkgPreviousHmacKeys,
    );
    this.logger = options.logger ?? SILENT_LOGGER;
    this.events = new TypedEmitter<ConfigClientEvents>((event, error) =>
      this.logger.error(`A "${event}" listener of the config client threw: ${errorMessage(error)}`),
    );
    this.defaults = defaultsOf(setup.definition);
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
        `Runs now use ${this.service} config version ${this.active.version} (${this.active.source})`,
      );
    }
    this.lastRunVersion = this.active.version;
    // Health at every run start (the design's contract): ops see runs happening, and which version.
    this.publishHealth();
    const snapshot = this.snapshotOf(this.active);
    this.openRuns.add(snapshot);
    return snapshot;
  }

  /**
   * Records how the run of `snapshot` (what beginRun() returned) ended: `runs` counts the
   * completed and failed runs on its version (restarting when a run uses another version) and
   * `lastRun` is this one. Health goes out at once after the first finished run on a version and
   * after a failed run, otherwise within a second. Throws INVALID_RUN for a snapshot beginRun()
   * did not return or that ended already.
   */
  endRun(snapshot: ConfigSnapshot<T>, outcome: RunOutcome): void {
    if (!this.openRuns.has(snapshot)) {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidRun,
        'endRun() takes the snapshot beginRun() returned, once: this one was not returned by beginRun() of this client, or its run ended already',
      );
    }
    if (typeof outcome?.ok !== 'boolean') {
      throw new ConfigClientError(
        ConfigClientErrorCode.InvalidRun,
        'endRun(snapshot, { ok }) needs ok: true (the run did its work) or false (it failed)',
        ['ok'],
      );
    }
    this.openRuns.delete(snapshot);
    const { version } = snapshot;
    const previous = this.runs?.version === version ? this.runs : undefined;
    const counts = previous ?? { version, completed: 0, failed: 0 };
    this.runs = outcome.ok
      ? { ...counts, completed: counts.completed + 1 }
      : { ...counts, failed: counts.failed + 1 };
    this.lastRun = { version, ok: outcome.ok, at: new Date().toISOString() };
    if (!outcome.ok) {
      this.logger.warn(
        `A run on ${this.service} config version ${version} failed (${this.runs.failed} of ${this.runs.completed + this.runs.failed} on it)`,
      );
    }
    // What a rollout decides on goes out at once; routine successes are coalesced.
    if (previous === undefined || !outcome.ok) {
      this.publishHealth();
    } else {
      this.publishHealthSoon();
    }
  }

  /** The active snapshot (what the current run uses), without swapping in a staged one. */
  current(): ConfigSnapshot<T> {
    return this.snapshotOf(this.active);
  }

  /** The health payload as it would be published now. */
  status(): InstanceStatus {
    const reference = this.applied ?? this.defaults;
    return {
      service: this.service,
      instanceId: this.instanceId,
      status: this.statusValue(),
      appliedVersion: this.applied?.version ?? 0,
      stagedVersion: (this.staged ?? this.active).version,
      lastRunVersion: this.lastRunVersion,
      ...(this.lastRejection === undefined ? {} : { lastRejection: { ...this.lastRejection } }),
      schemaDrift: reference.schemaDrift,
      source: reference.source,
      rejections: { ...this.counts.rejected },
      labels: { ...this.labels },
      ...(this.runs === undefined ? {} : { runs: { ...this.runs } }),
      ...(this.lastRun === undefined ? {} : { lastRun: { ...this.lastRun } }),
      stale: this.isStale(Date.now()),
      ...(this.attestedAt === undefined
        ? {}
        : { attestedAt: new Date(this.attestedAt).toISOString() }),
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
    this.startedAt = Date.now();
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
    clearTimeout(this.runsTimer);
    this.runsTimer = undefined;
    clearTimeout(this.freshnessTimer);
    this.freshnessTimer = undefined;
    this.finishInitial('stopped');
    // The offline status names the applied version: its file first, as for any status.
    await this.pendingSave;
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
    this.logger.log(`Config client for ${this.service}/${this.instanceId} stopped`);
  }

  private async loadLastKnownGood(): Promise<void> {
    const path = this.store.path;
    const loaded = await this.store.load(this.service);
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
    const verdict = this.verifyLastKnownGood(loaded);
    if (typeof verdict === 'string') {
      this.logger.error(`Ignoring last-known-good file ${path}: ${verdict}`);
      return;
    }
    const candidate =
      verdict.rollout === undefined ? '' : `, the candidate of rollout ${verdict.rollout.id}`;
    this.logger.log(
      `Loaded last-known-good ${this.service} config version ${verdict.version}${candidate} from ${path} (saved ${loaded.savedAt})`,
    );
    if (verdict.signedSchema !== undefined) {
      this.learnSchema(verdict.signedSchema, 'lkg');
    }
    this.accept(verdict, loaded.envelopeBytes, 'lkg');
    if (loaded.underPreviousKey) {
      // The rotation's overlap ends once every file is under the new key: this one now is.
      this.logger.warn(
        `The last-known-good file ${path} checks only under a previous key (LKG_HMAC_KEYS_PREVIOUS): ` +
          'rewriting it under the current LKG_HMAC_KEY now',
      );
      this.persist(loaded.envelopeBytes, loaded.schemaEnvelopeBytes);
    } else if (loaded.format < LKG_FORMAT) {
      this.logger.log(
        `The last-known-good file ${path} is format ${loaded.format}; the next accepted version or attestation rewrites it as format ${LKG_FORMAT}`,
      );
    }
  }

  // Both envelopes are verified in full, as if they had just arrived: the HMAC only says who wrote the file.
  private verifyLastKnownGood(
    loaded: Extract<LastKnownGoodLoad, { kind: 'ok' }>,
  ): Accepted | string {
    let saved: ReadonlyMap<string, SignedSchema> | undefined;
    if (this.signedSchemas !== undefined) {
      if (loaded.schemaEnvelopeBytes === undefined) {
        return (
          'it holds no signed schema to validate its config with (a client with a schema of its ' +
          'own wrote it); the broker will deliver both'
        );
      }
      const schema = this.verifier.verifySchema(loaded.schemaEnvelopeBytes, {
        topicService: this.service,
      });
      if (schema.kind !== 'accepted') {
        return (
          `its signed schema fails verification (${schema.reason}: ${schema.detail}). ` +
          'Was the signing key rotated out of the trusted keys?'
        );
      }
      // Only the schema saved with it: never one that merely arrived earlier.
      saved = new Map([[schema.schema.schemaHash, schema.schema]]);
    }
    // A saved candidate is verified as one: it must still name this instance.
    const verdict = this.verifier.verifySaved(loaded.envelopeBytes, {
      topicService: this.service,
      appliedVersion: 0,
      signedSchemas: saved,
      instanceId: this.instanceId,
    });
    if (verdict.kind === 'accepted') {
      return verdict;
    }
    const why =
      verdict.kind === 'rejected'
        ? `${verdict.reason}: ${verdict.detail}`
        : verdict.kind === 'pending'
          ? `it was built for schema ${verdict.schemaHash}, not the one saved with it`
          : verdict.kind === 'not-targeted'
            ? `it is a candidate of rollout ${verdict.rolloutId} for other instances than ${this.instanceId}`
            : verdict.kind;
    return (
      `its envelope fails verification (${why}). ` +
      'Was the signing key rotated out of the trusted keys, or the schema changed?'
    );
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
    // The broker reads the will at CONNECT (and reconnects): built then from the newest status
    // sent, rather than serialised again for every status.
    Object.defineProperty(client.options, 'will', {
      configurable: true,
      enumerable: true,
      get: () => this.willOf(this.lastSentStatus ?? this.status()),
      set: () => undefined,
    });
    // The schema first: its retained copy then usually comes before the config that needs it.
    // The candidate last: a targeted instance then usually applies the stable version first.
    const topics = [
      ...(this.schemaTopic === undefined ? [] : [this.schemaTopic]),
      this.configTopic,
      this.candidateTopic,
    ];
    client.on('connect', () => {
      disableNagle(client);
      this.lastMqttError = undefined;
      this.logger.log(
        `${this.everConnected ? 'Reconnected' : 'Connected'} to MQTT broker ${safeUrl(this.mqttUrl)}; subscribing to ${topics.join(' and ')}`,
      );
      this.everConnected = true;
      client.subscribe(topics, { qos: 1 }, (error, granted) => {
        if (error) {
          this.logger.error(
            `Subscribing to ${topics.join(' and ')} failed: ${error.message}. Check the broker ACL for this client.`,
          );
        }
        // MQTT 3.1.1 refuses a subscription in the SUBACK (0x80), not with an error.
        for (const grant of granted ?? []) {
          if (grant.qos === SUBACK_FAILURE) {
            this.logger.error(
              `The broker refused the subscription to ${grant.topic}. Check the broker ACL for this client.`,
            );
          }
        }
      });
      // A reconnect follows our will (offline) or a broker restart: say where we are again.
      if (this.phase === 'running') {
        this.publishHealth();
      }
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    // mqtt.js emits 'message' and then asks handleMessage when to acknowledge: once the
    // last-known-good save the message started (if any) settled, so the broker keeps a QoS 1
    // config until it is on disk, and the PUBACK leaves in the same write as the health report.
    client.handleMessage = (_packet, callback) => {
      void this.pendingSave.then(() => callback());
    };
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
    if (this.schemaTopic !== undefined && topic === this.schemaTopic) {
      this.onSchemaMessage(topic, bytes);
    } else if (topic === this.candidateTopic) {
      this.onCandidateMessage(topic, bytes);
    } else {
      this.onConfigMessage(topic, bytes);
    }
  }

  private onConfigMessage(topic: string, bytes: Buffer): void {
    const topicService = topic.startsWith(this.topicPrefix)
      ? parseConfigTopic(topic.slice(this.topicPrefix.length))?.service
      : undefined;
    const verdict = this.verifier.verify(bytes, {
      topicService,
      appliedVersion: this.applied?.version ?? 0,
      signedSchemas: this.signedSchemas,
      candidateStableVersion: this.applied?.rollout?.stableVersion,
    });
    this.onVerdict(verdict, topic, bytes);
  }

  private onCandidateMessage(topic: string, bytes: Buffer): void {
    const topicService = topic.startsWith(this.topicPrefix)
      ? parseCandidateTopic(topic.slice(this.topicPrefix.length))?.service
      : undefined;
    const verdict = this.verifier.verifyCandidate(bytes, {
      topicService,
      appliedVersion: this.applied?.version ?? 0,
      signedSchemas: this.signedSchemas,
      instanceId: this.instanceId,
    });
    this.onVerdict(verdict, topic, bytes);
  }

  private onVerdict(verdict: EnvelopeVerdict, topic: string, bytes: Buffer): void {
    switch (verdict.kind) {
      case 'accepted':
        this.accept(verdict, bytes, 'broker');
        break;
      case 'duplicate':
        this.counts.duplicates += 1;
        if (!this.confirmed && this.applied?.version === verdict.version) {
          this.confirmed = true;
          this.logger.log(
            `The broker confirms ${this.service} config version ${verdict.version} (the last-known-good one)`,
          );
          this.publishHealth();
        }
        this.attest(verdict, topic, bytes);
        this.finishInitial('config');
        break;
      case 'pending':
        this.hold({ topic, bytes, version: verdict.version, schemaHash: verdict.schemaHash });
        break;
      case 'archived':
        this.onArchived(verdict.version, verdict.issuedAt);
        break;
      case 'rejected':
        this.reject(verdict, topic);
        break;
      case 'behind-candidate':
        // Not a replay: the stable version this instance's candidate is rolled out from.
        this.logger.debug?.(
          `Ignoring ${this.service} config version ${verdict.version} on ${topic}: this instance runs the candidate ` +
            `${this.applied?.version ?? 0} of rollout ${this.applied?.rollout?.id ?? '(none)'}, which replaces it`,
        );
        break;
      case 'not-targeted':
        this.logger.debug?.(
          `Ignoring candidate version ${verdict.version} of rollout ${verdict.rolloutId}: its cohort does not name ${this.instanceId}`,
        );
        break;
      case 'no-candidate':
        break;
    }
  }

  /**
   * A duplicate from the topic the applied version came from, issued later than the last
   * attestation, is a heartbeat: the manager still stands by this version. Not a new version,
   * nothing re-applied; the last-known-good file is rewritten with it, so a restart knows how
   * fresh it was. A copy on the config topic of the candidate this instance runs is the
   * rollout's completion: from then on the version counts as the config topic's.
   */
  private attest(
    verdict: Extract<EnvelopeVerdict, { kind: 'duplicate' }>,
    topic: string,
    bytes: Buffer,
  ): void {
    const applied = this.applied;
    const issuedAt = readDateTime(verdict.issuedAt);
    if (applied === undefined || applied.version !== verdict.version || issuedAt === undefined) {
      return;
    }
    const fromCandidate = topic === this.candidateTopic;
    if (fromCandidate && applied.rollout === undefined) {
      // A candidate copy of a version this instance took from the config topic: not its source.
      return;
    }
    const completed = !fromCandidate && applied.rollout !== undefined;
    if (completed) {
      this.completeRollout(applied);
    }
    const at = Math.min(issuedAt, Date.now());
    if (!completed && this.attestedAt !== undefined && at <= this.attestedAt) {
      return;
    }
    this.attestedAt = Math.max(at, this.attestedAt ?? at);
    this.logger.debug?.(
      `${this.service} config version ${verdict.version} attested at ${new Date(this.attestedAt).toISOString()} (${topic})`,
    );
    this.persist(bytes, this.appliedSchemaBytes);
    if (this.updateFreshness()) {
      this.publishHealth();
    }
  }

  // The candidate this instance runs is now the stable version: it forgets the rollout.
  private completeRollout(applied: ConfigState): void {
    const { rollout, ...rest } = applied;
    const stable = deepFrozenState(rest);
    this.applied = stable;
    if (this.staged === applied) this.staged = stable;
    if (this.active === applied) this.active = stable;
    this.logger.log(
      `${this.service} config version ${applied.version} (the candidate of rollout ${rollout?.id ?? '(none)'}) ` +
        'is now on the config topic: the rollout completed',
    );
  }

  private onSchemaMessage(topic: string, bytes: Buffer): void {
    const topicService = topic.startsWith(this.topicPrefix)
      ? parseSchemaTopic(topic.slice(this.topicPrefix.length))?.service
      : undefined;
    const verdict = this.verifier.verifySchema(bytes, { topicService });
    if (verdict.kind === 'rejected') {
      this.rejectSchema(verdict, topic);
      return;
    }
    this.learnSchema(verdict.schema, 'broker');
    const held = this.held;
    if (held !== undefined && held.schemaHash === verdict.schema.schemaHash) {
      this.held = undefined;
      // All rules again, against what the client has now (a newer version may have come since).
      this.onMessage(held.topic, held.bytes);
    }
  }

  // Not a verdict on the config: without its schema, rule 5 cannot be applied yet.
  private hold(config: HeldConfig): void {
    if (this.held !== undefined && this.held.version > config.version) {
      // Only the newest waits: this one would be stale once that one is applied.
      return;
    }
    this.held = { ...config, bytes: Buffer.from(config.bytes) };
    this.logger.log(
      `Holding ${this.service} config version ${config.version} until the signed schema it was built for ` +
        `(${config.schemaHash}) arrives on ${this.schemaTopic ?? '(no schema topic)'}; still on version ${(this.staged ?? this.active).version}`,
    );
    this.events.emit('pending', { version: config.version, schemaHash: config.schemaHash });
  }

  private learnSchema(schema: SignedSchema, source: 'broker' | 'lkg'): void {
    if (this.signedSchemas === undefined || !this.signedSchemas.add(schema)) {
      // Known already: the retained copy again, after a reconnect.
      return;
    }
    this.logger.log(
      `Verified the signed ${this.service} schema version ${schema.schemaVersion} (${schema.schemaHash}, from ${source})`,
    );
    // Until a config is applied, runs get the newest signed schema's defaults rather than nothing.
    if (this.applied === undefined && schema.schemaVersion > this.defaultsSchemaVersion) {
      this.defaultsSchemaVersion = schema.schemaVersion;
      this.defaults = defaultsOf(schema.definition);
      this.staged = this.defaults;
    }
    this.events.emit('schemaAccepted', {
      schemaVersion: schema.schemaVersion,
      schemaHash: schema.schemaHash,
      secretPaths: schema.definition.secretPaths,
      source,
    });
  }

  // A refused schema is logged and emitted, not counted: health counts config messages (and
  // its lastRejection.version is a config version, which a schema version is not).
  private rejectSchema(verdict: Extract<SchemaVerdict, { kind: 'rejected' }>, topic: string): void {
    const at = new Date().toISOString();
    const waiting =
      this.held === undefined
        ? ''
        : ` Config version ${this.held.version} still waits for schema ${this.held.schemaHash}.`;
    this.logger.warn(
      `Refused a schema message on ${topic} (${verdict.reason}${verdict.schemaVersion === undefined ? '' : `, schema version ${verdict.schemaVersion}`}): ` +
        `${verdict.detail}. No config is validated with it.${waiting}`,
    );
    this.events.emit('schemaRejected', {
      reason: verdict.reason,
      ...(verdict.schemaVersion === undefined ? {} : { schemaVersion: verdict.schemaVersion }),
      detail: verdict.detail,
      at,
    });
  }

  // Neither a version nor a rejection: the client keeps what it has, and says why nothing will come.
  private onArchived(version: number, issuedAt: string | undefined): void {
    if (this.archivedVersion === version) {
      this.finishInitial('archived');
      return;
    }
    this.archivedVersion = version;
    this.logger.warn(
      `The manager archived ${this.service} (its last version is ${version}): no new versions will come. ` +
        `Runs continue on version ${(this.staged ?? this.active).version}; retire this worker or have the service restored.`,
    );
    this.events.emit('archived', {
      version,
      ...(issuedAt === undefined ? {} : { issuedAt }),
      at: new Date().toISOString(),
    });
    this.finishInitial('archived');
  }

  // Rule 0 for a message too large to read at all: the guard skipped it as it arrived.
  private onOversized(topic: string, bytes: number): void {
    if (this.phase === 'stopped' || this.phase === 'new') {
      return;
    }
    const detail = `the MQTT packet is ${bytes} bytes, more than the limit of ${this.maxPacketBytes}; dropped unread`;
    if (this.schemaTopic !== undefined && topic === this.schemaTopic) {
      this.rejectSchema({ kind: 'rejected', reason: 'oversized', detail }, topic);
      return;
    }
    if (topic !== this.configTopic && topic !== this.candidateTopic) {
      this.logger.warn(`Dropped a message on ${topic}: ${detail}`);
      return;
    }
    this.reject({ kind: 'rejected', reason: 'oversized', detail }, topic);
  }

  private accept(verdict: Accepted, bytes: Buffer, source: 'broker' | 'lkg'): void {
    if (this.held !== undefined && this.held.version <= verdict.version) {
      // Superseded: applying it later would only make it stale.
      this.held = undefined;
    }
    const state = deepFrozenState({
      version: verdict.version,
      config: verdict.config,
      schemaDrift: verdict.schemaDrift,
      source,
      ...(verdict.rollout === undefined ? {} : { rollout: verdict.rollout }),
    });
    this.applied = state;
    this.staged = state;
    this.appliedSchemaBytes = verdict.signedSchema?.envelopeBytes;
    // Accepted: attested as of its issuedAt (capped at our clock). From the file: as fresh as
    // it was when saved, which an attestation from the broker then brings up to date.
    const issuedAt = readDateTime(verdict.payload.issuedAt);
    this.attestedAt =
      issuedAt === undefined
        ? source === 'broker'
          ? Date.now()
          : undefined
        : Math.min(issuedAt, Date.now());
    const rollout = verdict.rollout;
    if (source === 'broker') {
      this.confirmed = true;
      this.counts.accepted += 1;
      this.logger.log(
        rollout === undefined
          ? `Accepted ${this.service} config version ${verdict.version}; staged for the next run`
          : `Accepted ${this.service} candidate version ${verdict.version} of rollout ${rollout.id} ` +
              `(step ${rollout.step}, from stable version ${rollout.stableVersion}); staged for the next run`,
      );
      this.persist(bytes, verdict.signedSchema?.envelopeBytes);
    }
    if (verdict.schemaDrift) {
      this.logger.warn(
        `${this.service} config version ${verdict.version} was built for schema ${verdict.payload.schemaHash ?? '(none)'}, ` +
          `this worker has ${this.definition?.schemaHash ?? '(none)'} (schemaDrift): deploy matching versions of the manager and this worker`,
      );
    }
    this.publishHealth();
    this.events.emit('accepted', {
      version: verdict.version,
      schemaDrift: verdict.schemaDrift,
      source,
      ...(rollout === undefined ? {} : { rollout: { ...rollout } }),
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

  // With a signed schema, its envelope is saved too: a restart without the broker needs both.
  private persist(bytes: Buffer, schemaBytes: Buffer | undefined): void {
    const path = this.store.path;
    const save = this.store.save(bytes, this.service, schemaBytes);
    this.savesStarted += 1;
    this.pendingSave = save
      .catch((error: unknown) => {
        this.logger.error(
          `Could not write the last-known-good file ${path}: ${errorMessage(error)}. ` +
            'The worker keeps running, but a restart without the broker would fall back further.',
        );
      })
      .then(() => this.onSaveSettled());
  }

  // The status that waited for this save goes out now (with the broker's PUBACK of the message
  // that caused it, in one write: both wait for the same promise).
  private onSaveSettled(): void {
    this.savesSettled += 1;
    const waiting = this.healthAfterSave;
    if (waiting !== undefined && this.savesSettled >= waiting.saves) {
      this.healthAfterSave = undefined;
      this.sendHealth(waiting.status);
    }
  }

  // Within RUN_HEALTH_INTERVAL_MS of the last status (any status carries the counts so far).
  private publishHealthSoon(): void {
    // After stop() nothing is published any more (a run may still end while the client stops).
    if (this.runsTimer !== undefined || this.phase === 'stopped') {
      return;
    }
    const wait = this.lastHealthAt + RUN_HEALTH_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.publishHealth();
      return;
    }
    this.runsTimer = setTimeout(() => {
      this.runsTimer = undefined;
      this.publishHealth();
    }, wait);
    this.runsTimer.unref();
  }

  /** Whether the staleness changed (it is then logged once and emitted); schedules its next check. */
  private updateFreshness(): boolean {
    clearTimeout(this.freshnessTimer);
    this.freshnessTimer = undefined;
    if (this.maxStalenessMs === 0 || this.phase === 'stopped' || this.phase === 'new') {
      return false;
    }
    const now = Date.now();
    const stale = this.isStale(now);
    const changed = stale !== this.reportedStale;
    if (changed) {
      this.reportedStale = stale;
      this.logFreshness(stale, now);
      this.events.emit('freshness', {
        stale,
        ...(this.attestedAt === undefined
          ? {}
          : { attestedAt: new Date(this.attestedAt).toISOString() }),
        at: new Date(now).toISOString(),
      });
    }
    if (!stale) {
      // Just past the limit (stale is "more than"); an attestation before then reschedules it.
      const wait = (this.attestedAt ?? this.startedAt) + this.maxStalenessMs - now + 1;
      this.freshnessTimer = setTimeout(() => {
        this.freshnessTimer = undefined;
        if (this.updateFreshness()) {
          this.publishHealth();
        }
      }, wait);
      this.freshnessTimer.unref();
    }
    return changed;
  }

  private isStale(now: number): boolean {
    if (this.maxStalenessMs === 0 || this.phase === 'new' || this.phase === 'stopped') {
      return false;
    }
    return now - (this.attestedAt ?? this.startedAt) > this.maxStalenessMs;
  }

  private logFreshness(stale: boolean, now: number): void {
    const version = this.applied?.version ?? 0;
    if (!stale) {
      this.logger.log(
        `${this.service} config version ${version} is fresh again (attested at ${
          this.attestedAt === undefined ? '(never)' : new Date(this.attestedAt).toISOString()
        })`,
      );
      return;
    }
    const limit = `${this.maxStalenessMs / 1000} s of CONFIG_MAX_STALENESS`;
    const what =
      this.attestedAt === undefined
        ? `nothing was applied in the ${Math.round((now - this.startedAt) / 1000)} s since start, more than the ${limit}`
        : `version ${version} was last attested at ${new Date(this.attestedAt).toISOString()} ` +
          `(${Math.round((now - this.attestedAt) / 1000)} s ago), more than the ${limit}`;
    this.logger.warn(
      `${this.service} config is stale: ${what}. Runs continue on version ${(this.staged ?? this.active).version}. ` +
        `Check the broker connection (${this.client?.connected === true ? 'connected now' : 'not connected now'} to ${safeUrl(this.mqttUrl)}), ` +
        `the broker ACL for ${this.configTopic}, the manager's heartbeat (CONFIG_HEARTBEAT_SECONDS, 0 turns it off) ` +
        'and the clocks of the manager and this worker.',
    );
  }

  private publishHealth(): void {
    this.updateFreshness();
    clearTimeout(this.runsTimer);
    this.runsTimer = undefined;
    this.lastHealthAt = Date.now();
    const status = this.status();
    if (this.savesSettled < this.savesStarted) {
      // Not before the last-known-good file of what it reports is on disk (durability first).
      this.healthAfterSave = { status, saves: this.savesStarted };
    } else {
      this.healthAfterSave = undefined;
      this.sendHealth(status);
    }
    if (status.status !== this.lastStatusValue && this.phase !== 'starting') {
      this.lastStatusValue = status.status;
      this.logger.log(`Status ${status.status} (applied version ${status.appliedVersion})`);
    }
    this.events.emit('status', status);
  }

  private sendHealth(status: InstanceStatus): void {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    const payload = JSON.stringify(status);
    this.lastSentStatus = status;
    if (client.connected && this.phase !== 'stopped') {
      client.publish(this.healthTopic, payload, { qos: 1, retain: true }, (error) => {
        if (error) {
          this.logger.warn(`Could not publish health to ${this.healthTopic}: ${error.message}`);
        }
      });
    }
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
    const waiting =
      this.held === undefined
        ? ''
        : `; version ${this.held.version} waits for its signed schema ${this.held.schemaHash}`;
    const why = {
      config: 'the broker delivered it',
      rejected: 'the broker sent a config that was rejected',
      archived: 'the manager archived the service',
      timeout: `nothing valid arrived within ${this.initialTimeoutMs} ms${waiting}`,
      unreachable: `the broker ${safeUrl(this.mqttUrl)} is unreachable`,
      stopped: 'stopped',
    }[outcome];
    const next = this.staged ?? this.active;
    if (this.statusValue() === 'online') {
      this.logger.log(`Running on ${this.service} config version ${next.version} (${why})`);
    } else if (next.source === 'lkg') {
      this.logger.warn(
        `Running degraded on the last-known-good ${this.service} config version ${next.version} ` +
          `(${why}); a valid config from the broker will replace it`,
      );
    } else {
      this.logger.warn(
        `Running degraded on the ${this.service} schema defaults (${why}, no usable ` +
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

// What a run gets before any version: the schema's defaults (secrets at their defaults), or
// nothing for a client whose schema is the signed one and has not arrived yet.
function defaultsOf(definition: ServiceDefinition | undefined): ConfigState {
  return deepFrozenState({
    version: 0,
    config:
      definition === undefined
        ? {}
        : withSecretDefaults(defaultConfig(definition), secretDefaultsOf(definition)),
    schemaDrift: false,
    source: 'defaults',
  });
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
