import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { ConfigCacheService } from '../configs/config-cache.service';
import { DatabaseService } from '../database/database.service';
import { InstancesService } from '../instances/instances.service';
import { BrokerConnectionService } from '../messaging/broker-connection.service';
import { MetricsService } from '../metrics/metrics.service';
import { ConfigPublisherService } from '../publishing/config-publisher.service';
import { HeartbeatService } from '../publishing/heartbeat.service';
import { SecretsService } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { CandidatePublisher } from './candidate-publisher';
import { advance, type Move, type Observation, withEvent } from './rollout-machine';
import { isActive, publishedStep, type RolloutRecord } from './rollout-record';
import { type EndRequest, type Ending, RolloutReleases } from './rollout-releases.service';
import { RolloutRepository } from './rollout.repository';

/** Active rollouts are re-read from the store at most this often (other replicas may move them). */
const RELOAD_INTERVAL_MS = 1000;
/** A failing rollout is logged at most this often. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Drives every active rollout: a tick (ROLLOUT_TICK_MS, 250 ms by default) shows the state
 * machine (rollout-machine.ts) the instance view of its service, persists each move, and carries
 * out its effect: publish the candidate, roll back, or complete. The store is the truth: active
 * rollouts are loaded at start (a restarted manager resumes where it was) and re-read every
 * second; every change is a compare-and-set on the row's revision, so requests, ticks and
 * replicas never apply two moves from the same state. Work on one rollout is serialised.
 */
@Injectable()
export class RolloutDriver implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RolloutDriver.name);
  private readonly active = new Map<string, RolloutRecord>();
  /** Per rollout, the step whose candidate the broker acknowledged since this connection. */
  private readonly delivered = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly failureLogged = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private lastReload = 0;
  private clearPending = true;
  /** Rollouts adopted since the current reload began reading (its rows may predate them). */
  private readonly adoptedDuringReload = new Set<string>();

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly db: DatabaseService,
    private readonly rollouts: RolloutRepository,
    private readonly releases: RolloutReleases,
    private readonly candidates: CandidatePublisher,
    private readonly instances: InstancesService,
    private readonly cache: ConfigCacheService,
    private readonly publisher: ConfigPublisherService,
    private readonly secrets: SecretsService,
    private readonly connection: BrokerConnectionService,
    private readonly heartbeats: HeartbeatService,
    private readonly metrics: MetricsService,
  ) {}

  async onModuleInit(): Promise<void> {
    // Before the broker connects: the instance view must believe retained reports of candidates.
    await this.reload();
    this.connection.onConnect(() => {
      // A broker that lost its retained messages gets every candidate again, and empty ones
      // where a rollout ended while it was away.
      this.delivered.clear();
      this.clearPending = true;
    });
    this.heartbeats.onBeat(() => this.attestCandidates());
  }

  onApplicationBootstrap(): void {
    if (this.active.size > 0) {
      this.logger.log(
        `Resuming ${this.active.size} active rollout(s): ${[...this.active.values()]
          .map((r) => `${r.service} ${r.id} (${r.state}, step ${r.step})`)
          .join(', ')}`,
      );
    }
    this.timer = setInterval(() => void this.tick(), this.settings.rolloutTickMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.queues.values()]);
  }

  /** Runs `work` on rollout `id` once any earlier work on it finished. */
  serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }

  /** What the state machine sees of `service` now. */
  observe(service: string): Observation {
    return { fleet: this.instances.list(service), now: new Date() };
  }

  /** Starts driving a rollout created by this manager at once. */
  adopt(record: RolloutRecord): void {
    this.adoptedDuringReload.add(record.id);
    this.remember(record);
    void this.serial(record.id, () => this.step(record.id));
  }

  /**
   * Persists a move and carries out its effect; the record afterwards, and false in `won` when
   * another writer moved the rollout first (the record is then the store's).
   */
  async apply(before: RolloutRecord, move: Move): Promise<{ record: RolloutRecord; won: boolean }> {
    let record = before;
    if (move.changed) {
      const next = { ...move.record, revision: before.revision + 1 };
      if (!(await this.releases.persist(before, next, move.effect.kind === 'publish'))) {
        return { record: await this.refresh(before), won: false };
      }
      record = next;
      this.remember(record);
    }
    switch (move.effect.kind) {
      case 'publish':
        // Workers will report the candidate before it is current: the instance view must believe them.
        this.cache.announce(record.service, record.version);
        this.delivered.delete(record.id);
        await this.deliver(record);
        break;
      case 'roll-back':
        record = await this.finish(
          this.releases.end(record, {
            final: 'rolled_back',
            by: record.trigger ?? 'system',
            message: `rolled back (${record.trigger ?? 'system'})`,
            restore: true,
          }),
        );
        break;
      case 'complete':
        // The move's record (it may carry the last acknowledgement) at the stored revision.
        record = await this.finish(
          this.releases.complete({ ...move.record, revision: record.revision }, move.effect.by),
        );
        break;
      case 'none':
        break;
    }
    return { record, won: true };
  }

  /** Ends a rollout (an abort, or the stable version moved on without it). */
  async end(before: RolloutRecord, request: EndRequest): Promise<RolloutRecord> {
    return this.finish(this.releases.end(before, request));
  }

  /** One look at every active rollout. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = (async () => {
      if (Date.now() - this.lastReload >= RELOAD_INTERVAL_MS) await this.reload();
      if (this.clearPending && this.connection.isConnected()) await this.clearEnded();
      await Promise.all([...this.active.keys()].map((id) => this.serial(id, () => this.step(id))));
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async step(id: string): Promise<void> {
    const record = this.active.get(id);
    if (!record) return;
    try {
      const current = this.cache.get(record.service)?.version;
      if (
        current !== undefined &&
        current !== record.stableVersion &&
        record.state !== 'rolling_back'
      ) {
        // The stable version moved without the rollout (a schema change from code at start).
        await this.end(record, {
          final: 'aborted',
          by: 'system',
          message: `v${current} became current without this rollout: v${record.version} is outdated`,
          restore: false,
        });
        return;
      }
      const { record: after } = await this.apply(
        record,
        advance(record, this.observe(record.service)),
      );
      if (isActive(after.state) && after.state !== 'rolling_back') await this.deliver(after);
      this.failureLogged.delete(id);
    } catch (error) {
      this.logFailure(record, error);
    }
  }

  /** Publishes the candidate unless the broker acknowledged this step's already. */
  private async deliver(record: RolloutRecord): Promise<void> {
    const step = publishedStep(record);
    if (!step || this.delivered.get(record.id) === step.step) return;
    if (!this.connection.isConnected()) return;
    const outcome = await this.candidates.publish(record);
    if (outcome === 'published') this.delivered.set(record.id, step.step);
    if (outcome === 'oversized') {
      // The cohort's ids do not fit one signed message; nothing sensible can go out.
      const at = new Date().toISOString();
      const paused = withEvent(record, 'paused', 'system', at, {
        message: `step ${step.step}'s candidate message (cohort of ${step.instances.length}) is larger than a worker reads: paused; promote or abort`,
      });
      await this.apply(record, { record: paused, changed: true, effect: { kind: 'none' } });
    }
  }

  /**
   * The heartbeat's share (docs/recovery.md): every candidate the broker acknowledged at its
   * current step is re-signed (new `issuedAt` and `expiresAt`, same step and cohort) and
   * published again, in the rollout's queue so it never overtakes a move. A candidate not yet
   * delivered is left to the tick, which publishes it anyway.
   */
  private async attestCandidates(): Promise<void> {
    if (!this.connection.isConnected()) return;
    await Promise.allSettled(
      [...this.active.keys()].map((id) =>
        this.serial(id, async () => {
          const known = this.active.get(id);
          if (!known) return;
          // Re-read: another replica may have ended it (its clear must not be overwritten).
          const record = this.db.isAvailable() ? await this.refresh(known) : known;
          const step = publishedStep(record);
          if (!isActive(record.state) || record.state === 'rolling_back' || !step) return;
          if (this.delivered.get(id) !== step.step) return;
          if ((await this.candidates.publish(record)) === 'published') {
            this.metrics.heartbeat(record.service, 'candidate');
          }
        }),
      ),
    );
  }

  /** After an ending commits: memory, the stable topic, the candidate topic. */
  private async finish(ending: Promise<Ending>): Promise<RolloutRecord> {
    const { record, state, secretUpdates } = await ending;
    this.active.delete(record.id);
    this.delivered.delete(record.id);
    this.candidates.forget(record.id);
    if (state) {
      this.cache.set(state);
      this.secrets.commitToCache(record.service, secretUpdates);
      await this.publisher.publish(state);
    }
    if (!(await this.candidates.clear(record.service))) this.clearPending = true;
    return record;
  }

  /** Empties the candidate topic of every service that had rollouts but has none active. */
  private async clearEnded(): Promise<void> {
    this.clearPending = false;
    try {
      for (const service of await this.rollouts.services()) {
        // Decided after the query and right before the clear is sent, with nothing awaited in
        // between: a rollout adopted meanwhile sends its candidate after this clear, not before.
        if (this.busy(service)) continue;
        if (!(await this.candidates.clear(service))) this.clearPending = true;
      }
    } catch {
      this.clearPending = true;
    }
  }

  private async reload(): Promise<void> {
    if (!this.db.isAvailable()) return;
    this.adoptedDuringReload.clear();
    try {
      const rows = await this.rollouts.listActive();
      this.lastReload = Date.now();
      const ids = new Set(rows.map((r) => r.id));
      for (const id of this.active.keys()) {
        if (!ids.has(id) && !this.adoptedDuringReload.has(id)) this.active.delete(id);
      }
      for (const row of rows) {
        const known = this.active.get(row.id);
        if (!known || known.revision <= row.revision) this.remember(row);
        if (publishedStep(row)) this.cache.announce(row.service, row.version);
      }
    } catch (error) {
      this.logger.warn(
        `Could not read the active rollouts: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The store's version of a rollout (another writer moved it). */
  private async refresh(before: RolloutRecord): Promise<RolloutRecord> {
    const found = await this.rollouts.find(before.service, before.id);
    if (!found) return before;
    this.remember(found);
    return found;
  }

  private busy(service: string): boolean {
    for (const record of this.active.values()) if (record.service === service) return true;
    return false;
  }

  private remember(record: RolloutRecord): void {
    if (isActive(record.state)) this.active.set(record.id, record);
    else this.active.delete(record.id);
  }

  private logFailure(record: RolloutRecord, error: unknown): void {
    const now = Date.now();
    if (now - (this.failureLogged.get(record.id) ?? 0) < FAILURE_LOG_INTERVAL_MS) return;
    this.failureLogged.set(record.id, now);
    this.logger.warn(
      `Rollout ${record.id} of ${record.service} (${record.state}) could not move on: ` +
        `${error instanceof Error ? error.message : String(error)}; retrying every tick`,
    );
  }
}
