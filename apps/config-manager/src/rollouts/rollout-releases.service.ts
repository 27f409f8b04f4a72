import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  type ChangeEntry,
  type RolloutEvent,
  type RolloutTrigger,
  diffConfigs,
} from '@app/contracts';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ConfigRepository } from '../configs/config-repository';
import type { ConfigState } from '../configs/config-state';
import { DatabaseService } from '../database/database.service';
import { type SecretCacheUpdate, SecretsService } from '../secrets/secrets.service';
import { type Actor, newEvents, withEvent } from './rollout-machine';
import { publishedStep, type RolloutRecord, type Strategy } from './rollout-record';
import { RolloutRepository } from './rollout.repository';
import { rolloutActive } from './rollout-errors';

/** A rollout that ended, and the version that became current by it (none for an abort before any step). */
export interface Ending {
  record: RolloutRecord;
  state?: ConfigState;
  secretUpdates: SecretCacheUpdate[];
}

/** How a rollout ends without completing. */
export interface EndRequest {
  final: 'rolled_back' | 'aborted';
  by: Actor;
  message: string;
  /** Make a new version with the stable content (false: nothing was deployed, or the stable version moved on). */
  restore: boolean;
}

/** Thrown inside a transaction when the rollout row moved since it was read. */
export class RolloutMoved extends Error {
  constructor(readonly rolloutId: string) {
    super(`rollout ${rolloutId} changed meanwhile`);
  }
}

/**
 * The rollout transitions that write the store, each in one transaction with its audit rows:
 * creating a rollout (after checking that its version is staged and newer than anything
 * published), persisting a move of the state machine (a compare-and-set on the row's revision),
 * ending it with a new version of the stable content (a rollback or an abort: versions stay
 * monotonic), and completing it (the candidate becomes the current version, its staged secret
 * writes the current secrets).
 */
@Injectable()
export class RolloutReleases {
  private readonly logger = new Logger(RolloutReleases.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly rollouts: RolloutRepository,
    private readonly configs: ConfigRepository,
    private readonly reads: ConfigReadsService,
    private readonly secrets: SecretsService,
    private readonly audit: AuditService,
  ) {}

  /** Records a new rollout of a staged version, `pending`; refused while another is active. */
  async create(
    service: string,
    version: number,
    strategy: Strategy,
    actor: string,
  ): Promise<RolloutRecord> {
    return this.db.transaction(async (m) => {
      await this.configs.lock(m, service);
      const active = await this.rollouts.findActive(m, service);
      if (active) throw rolloutActive(active);
      const staged = await this.configs.findVersion(m, service, version);
      if (!staged) {
        const message = `${service} has no version ${version}`;
        throw new DomainError(ErrorCode.UnknownVersion, message, [{ path: 'version', message }]);
      }
      if (staged.state !== 'staged') {
        const message =
          `${service} v${version} is published, not staged: stage a change with X-Publish: staged ` +
          'and roll that version out';
        throw new DomainError(ErrorCode.VersionNotStaged, message, [{ path: 'version', message }]);
      }
      const highest = await this.configs.highestPublishedVersion(m, service);
      if (version <= highest) {
        const message =
          `${service} v${version} is older than v${highest}, published since it was staged: workers ` +
          'would refuse it as a replay; stage the change again';
        throw new DomainError(ErrorCode.StagedVersionOutdated, message, [
          { path: 'version', message },
        ]);
      }
      const pointer = await this.configs.findService(m, service);
      if (!pointer) throw new Error(`service ${service} has no row`);
      const at = new Date().toISOString();
      const record: RolloutRecord = {
        id: `r-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
        service,
        version,
        stableVersion: pointer.currentVersion,
        strategy,
        state: 'pending',
        step: 0,
        steps: strategy.steps.map((s, i) => ({
          step: i + 1,
          cohort: s.cohort,
          instances: [],
          startedAt: null,
          ackedAt: null,
        })),
        instances: [],
        timeline: [
          {
            at,
            state: 'pending',
            step: 0,
            by: `user:${actor}`,
            message: `rollout of v${version} from stable v${pointer.currentVersion} in ${strategy.steps.length} step(s)`,
          },
        ],
        rollbackVersion: null,
        trigger: null,
        createdAt: at,
        createdBy: actor,
        updatedAt: at,
        revision: 1,
      };
      await this.rollouts.insert(m, record);
      await this.recordEvents(m, { ...record, state: 'pending', timeline: [] }, record);
      this.logger.log(`${service}: rollout ${record.id} of v${version} created by ${actor}`);
      return record;
    });
  }

  /** Persists a move (a compare-and-set on the revision); false when the row moved first. */
  async persist(before: RolloutRecord, next: RolloutRecord, publishing: boolean): Promise<boolean> {
    try {
      await this.db.transaction(async (m) => {
        await this.write(m, before, next);
        // Deployed from now on: the version is no longer only staged.
        if (publishing) await this.configs.markVersionPublished(m, next.service, next.version);
      });
      return true;
    } catch (error) {
      if (error instanceof RolloutMoved) return false;
      throw error;
    }
  }

  /**
   * Ends a rollout `rolled_back` or `aborted`; with `restore`, the targeted instances go back to
   * the stable content as a new version (kind `rollback`) higher than the candidate.
   */
  async end(before: RolloutRecord, request: EndRequest): Promise<Ending> {
    return this.db.transaction(async (m) => {
      await this.configs.lock(m, before.service);
      const at = new Date().toISOString();
      let state: ConfigState | undefined;
      if (request.restore && publishedStep(before)) {
        state = await this.restoreStable(m, before, request, at);
      }
      const trigger: RolloutTrigger | null =
        request.final === 'aborted' && request.by !== 'system' ? request.by : before.trigger;
      const ended = withEvent(
        { ...before, rollbackVersion: state?.version ?? before.rollbackVersion },
        request.final,
        request.by,
        at,
        {
          trigger,
          message: state
            ? `${request.message}; v${state.version} restores the content of v${before.stableVersion} for everyone`
            : request.message,
        },
      );
      const next = { ...ended, revision: before.revision + 1 };
      await this.write(m, before, next);
      this.logger.warn(
        `${before.service}: rollout ${before.id} ${request.final}: ${request.message}`,
      );
      return { record: next, state, secretUpdates: [] };
    });
  }

  /** The candidate becomes the current version for everyone; the rollout is `complete`. */
  async complete(before: RolloutRecord, by: Actor): Promise<Ending> {
    return this.db.transaction(async (m) => {
      const service = before.service;
      await this.configs.lock(m, service);
      const at = new Date().toISOString();
      const actor = by.startsWith('user:') ? by.slice('user:'.length) : before.createdBy;
      const stable = await this.reads.loadCurrent(m, service);
      const candidate = await this.configs.findVersion(m, service, before.version);
      if (!stable || !candidate) throw new Error(`${service} lost its versions`);
      const moved = await this.configs.promote(m, service, before.stableVersion, {
        version: before.version,
        at,
        actor,
      });
      if (!moved) {
        throw new DomainError(
          ErrorCode.RolloutStateConflict,
          `${service} is no longer at v${before.stableVersion}: rollout ${before.id} cannot complete`,
        );
      }
      await this.configs.markVersionPublished(m, service, before.version);
      const secretUpdates = await this.secrets.promote(m, service, before.version, actor, at);
      const last = before.strategy.steps.length;
      const completed = withEvent(
        {
          ...before,
          step: last,
          steps: before.steps.map((s) => (s.step === last ? { ...s, startedAt: at } : s)),
        },
        'complete',
        by,
        at,
        {
          trigger: by === 'system' ? 'complete' : by,
          message: `v${before.version} is the current version, published on the stable topic for everyone`,
        },
      );
      const next = { ...completed, revision: before.revision + 1 };
      await this.write(m, before, next);
      const changes: ChangeEntry[] = [
        ...diffConfigs(stable.config, candidate.config),
        ...Object.keys(candidate.secrets)
          .filter((p) => JSON.stringify(candidate.secrets[p]) !== JSON.stringify(stable.secrets[p]))
          .map((path) => ({ path, changed: true as const })),
      ];
      await this.audit.record(m, {
        at,
        actor,
        service,
        kind: candidate.kind,
        versionBefore: stable.version,
        versionAfter: before.version,
        reason: `rollout ${before.id} completed`,
        changes,
      });
      this.logger.log(`${service}: rollout ${before.id} complete, v${before.version} is current`);
      const state: ConfigState = {
        service,
        version: before.version,
        kind: candidate.kind,
        updatedAt: at,
        updatedBy: actor,
        schemaHash: candidate.schemaHash ?? stable.schemaHash,
        config: candidate.config,
        secrets: candidate.secrets,
      };
      return { record: next, state, secretUpdates };
    });
  }

  /** A new version with the current (stable) content, made current: the rollback target of the fleet. */
  private async restoreStable(
    m: EntityManager,
    before: RolloutRecord,
    request: EndRequest,
    at: string,
  ): Promise<ConfigState> {
    const service = before.service;
    const current = await this.reads.loadCurrent(m, service);
    const pointer = await this.configs.findService(m, service);
    if (!current || !pointer) throw new Error(`service ${service} has no current version`);
    const version = pointer.lastVersion + 1;
    const actor = actorName(request.by);
    const won = await this.configs.allocate(m, service, pointer, {
      version,
      at,
      actor,
      publish: true,
    });
    if (!won) throw new Error(`${service} moved while its row was locked`);
    const reason = `rollout ${before.id} ${request.final === 'aborted' ? 'aborted' : 'rolled back'} (${request.by}): back to the content of v${current.version}`;
    await this.configs.insertVersion(m, {
      service,
      version,
      kind: 'rollback',
      state: 'published',
      createdAt: at,
      createdBy: actor,
      reason,
      schemaHash: current.schemaHash,
      config: current.config,
      secrets: current.secrets,
    });
    await this.audit.record(m, {
      at,
      actor,
      service,
      kind: 'rollback',
      versionBefore: current.version,
      versionAfter: version,
      reason,
      changes: [],
    });
    return {
      service,
      version,
      kind: 'rollback',
      updatedAt: at,
      updatedBy: actor,
      schemaHash: current.schemaHash,
      config: current.config,
      secrets: current.secrets,
    };
  }

  /** Updates the row if it is still at `before.revision`, and audits each new timeline entry. */
  private async write(m: EntityManager, before: RolloutRecord, next: RolloutRecord): Promise<void> {
    if (!(await this.rollouts.update(m, next, before.revision))) throw new RolloutMoved(before.id);
    await this.recordEvents(m, before, next);
  }

  private async recordEvents(
    m: EntityManager,
    before: RolloutRecord,
    next: RolloutRecord,
  ): Promise<void> {
    let from = before.state;
    for (const event of newEvents(before, next)) {
      await this.audit.record(m, auditRow(next, event, from));
      from = event.state;
    }
  }
}

/** The audit row of one transition: who or what moved it, from and to which state. */
function auditRow(record: RolloutRecord, event: RolloutEvent, from: RolloutRecord['state']) {
  const changes: ChangeEntry[] = [{ path: 'rollout.state', from, to: event.state }];
  if (event.state === 'deploying' || event.state === 'complete') {
    changes.push({ path: 'rollout.step', from: null, to: event.step });
  }
  return {
    at: event.at,
    actor: actorName(event.by),
    service: record.service,
    kind: 'rollout',
    versionBefore: record.stableVersion,
    versionAfter: record.rollbackVersion ?? record.version,
    reason: `${record.id}: ${event.message}`.slice(0, 500),
    changes,
  };
}

/** A user's name, or the trigger that acted (`ack-timeout`, `rejection`, …, `system`). */
function actorName(by: Actor): string {
  return by.startsWith('user:') ? by.slice('user:'.length) : by;
}
