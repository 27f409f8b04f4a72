import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  type ChangeEntry,
  type ConfigIssue,
  type SecretState,
  type ServiceDefinition,
  type VersionKind,
  deepMerge,
  diffConfigs,
  validateConfig,
} from '@app/contracts';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { requireObject, requireSecretValue } from '../common/request-body';
import type { ChangeContext } from '../common/write-context';
import { DatabaseService } from '../database/database.service';
import { ConfigPublisherService } from '../publishing/config-publisher.service';
import { rolloutActive } from '../rollouts/rollout-errors';
import { RolloutRepository } from '../rollouts/rollout.repository';
import { SecretCacheUpdate, SecretChange, SecretsService } from '../secrets/secrets.service';
import { AFTER_COMMIT, type AfterCommit } from './after-commit';
import { ConfigCacheService } from './config-cache.service';
import { truncate } from '../common/text';
import { ConfigReadsService } from './config-reads.service';
import { ConfigRepository, type ServicePointer } from './config-repository';
import { secretFlags } from './config-response';
import type { ConfigState } from './config-state';
import { ServiceCatalog } from './service-catalog';
import { schemaConflict, validationError } from './validation-errors';

/** A requested change: a new config computed from the current one, and/or secret writes. */
export interface ChangeRequest extends ChangeContext {
  kind: VersionKind;
  /** The new config, from the current one, under the service's current definition. */
  config?: (current: Readonly<Record<string, unknown>>, definition: ServiceDefinition) => unknown;
  /** The error when the new config does not validate (default: 400 with the issues). */
  invalid?: (issues: ConfigIssue[], definition: ServiceDefinition) => DomainError;
  /** Secret writes by path; '' clears. */
  secrets?: Readonly<Record<string, string>>;
}

/**
 * The state after a change (a staged change: the staged version's), whether a new version was
 * created, whether it was staged, and whether it reached the broker.
 */
export interface ChangeResult {
  state: ConfigState;
  created: boolean;
  staged: boolean;
  published: boolean;
}

/** What a change would do, validated against the current state and not yet written. */
interface Plan {
  current: ConfigState;
  config: Readonly<Record<string, unknown>>;
  configChanges: ChangeEntry[];
  secretChanges: SecretChange[];
}

/** What one transaction produced, before it is published. */
interface Committed {
  state: ConfigState;
  created: boolean;
  staged: boolean;
  secretUpdates: SecretCacheUpdate[];
}

// Without If-Match a writer that loses the compare-and-set re-reads and re-applies its patch.
const MAX_CAS_ATTEMPTS = 8;

/** Thrown inside a transaction when another writer committed first. */
class CompareAndSetLost extends Error {
  constructor(
    readonly currentVersion: number,
    /** Only the version numbers moved (another staged write): the current version is as read. */
    readonly currentUnchanged: boolean,
  ) {
    super('compare-and-set lost');
  }
}

/**
 * The write use cases (patch, replace, rollback, secrets), kept together (~350 lines) because
 * they share one path whose steps must be read in order. Each turns an accepted change into
 * one new immutable version with its secrets and audit row, in one transaction: validate the new
 * config, plan what changes, then commit behind a compare-and-set on the service's version
 * numbers. The database is the source of truth: the version is committed first and published
 * after, and a failed publish never fails the write (the outbox delivers it later).
 *
 * With `X-Publish: staged` the same path makes a staged version instead: the next number, based
 * on the current config, its secret writes kept apart (SecretsService.stage); the current
 * version, memory and the broker stay as they are until a rollout deploys it.
 */
@Injectable()
export class ConfigWritesService {
  private readonly logger = new Logger(ConfigWritesService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly reads: ConfigReadsService,
    private readonly repository: ConfigRepository,
    private readonly cache: ConfigCacheService,
    private readonly secrets: SecretsService,
    private readonly audit: AuditService,
    private readonly publisher: ConfigPublisherService,
    private readonly catalog: ServiceCatalog,
    private readonly rollouts: RolloutRepository,
    @Optional() @Inject(AFTER_COMMIT) private readonly hook?: AfterCommit,
  ) {}

  /** Deep-merges a partial config into the current one and validates the merged whole. */
  async patch(service: string, patch: unknown, context: ChangeContext): Promise<ChangeResult> {
    const body = requireObject(patch);
    return this.change(service, {
      ...context,
      kind: 'update',
      config: (current, definition) => deepMerge(current, body, { mapPaths: definition.mapPaths }),
    });
  }

  /** Replaces the whole config; omitted fields take their schema defaults. */
  async replace(service: string, body: unknown, context: ChangeContext): Promise<ChangeResult> {
    const config = requireObject(body);
    return this.change(service, { ...context, kind: 'update', config: () => config });
  }

  /**
   * Stages another environment's config (a verified export bundle, see PromotionService) as a
   * version of kind `import`, ready to be rolled out; never published by itself.
   */
  async stageImport(
    service: string,
    config: Record<string, unknown>,
    context: ChangeContext,
  ): Promise<ChangeResult> {
    return this.change(service, {
      ...context,
      publish: 'staged',
      kind: 'import',
      config: () => config,
    });
  }

  /**
   * Makes a new version whose config is that of an earlier version (secrets are not rolled
   * back). The target is validated under today's schema: a version written under another schema
   * that does not fit it is refused with 409 and the failing paths.
   */
  async rollback(
    service: string,
    toVersion: number,
    context: ChangeContext,
  ): Promise<ChangeResult> {
    const target = await this.reads.version(service, toVersion);
    return this.change(service, {
      ...context,
      reason: context.reason ?? `rollback to version ${toVersion}`,
      kind: 'rollback',
      config: () => target.config,
      invalid: (issues, definition) =>
        schemaConflict(
          `${service} version ${toVersion} does not fit its current schema (${definition.schemaHash})`,
          issues,
        ),
    });
  }

  /** Sets (or with '' clears) one secret; a version is created only if something changed. */
  async writeSecret(
    service: string,
    path: string,
    value: string,
    context: ChangeContext,
  ): Promise<ChangeResult> {
    await this.reads.discover(service);
    const definition = this.catalog.active(service).definition;
    if (!definition.secretPaths.includes(path)) {
      throw new DomainError(
        ErrorCode.UnknownSecretPath,
        `${definition.name} has no secret "${truncate(path)}"; its secrets are: ${definition.secretPaths.join(', ') || 'none'}`,
      );
    }
    return this.change(service, { ...context, kind: 'secret', secrets: { [path]: value } });
  }

  /**
   * Applies a change: in one transaction check If-Match, validate, plan and, if anything
   * changed, commit; then update memory and publish. A change that changes nothing creates no
   * version and returns the current state.
   */
  async change(service: string, request: ChangeRequest): Promise<ChangeResult> {
    await this.reads.discover(service);
    const name = this.catalog.active(service).definition.name;
    for (const [path, value] of Object.entries(request.secrets ?? {})) {
      requireSecretValue(value, path);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.db.transaction((manager) =>
          this.applyOnce(manager, name, request),
        );
        const state = committed.state;
        if (!committed.created) {
          return {
            state,
            created: false,
            staged: false,
            published: this.publisher.isPublished(state.service, state.version),
          };
        }
        if (committed.staged) return { state, created: true, staged: true, published: false };
        this.hook?.afterCommit(state);
        this.cache.set(state);
        this.secrets.commitToCache(name, committed.secretUpdates);
        return {
          state,
          created: true,
          staged: false,
          published: await this.publisher.publish(state),
        };
      } catch (error) {
        if (!(error instanceof CompareAndSetLost)) throw error;
        const retry = error.currentUnchanged || request.ifMatch === undefined;
        if (!retry || attempt >= MAX_CAS_ATTEMPTS) {
          throw staleError(name, request.ifMatch ?? error.currentVersion, error.currentVersion);
        }
      }
    }
  }

  private async applyOnce(
    manager: EntityManager,
    service: string,
    request: ChangeRequest,
  ): Promise<Committed> {
    // Another replica may have changed the schema or archived the service since.
    const pointer = await this.repository.lock(manager, service);
    if (pointer) await this.catalog.sync(manager, pointer);
    const definition = this.catalog.active(service).definition;
    const current = await this.reads.loadCurrent(manager, service, pointer);
    if (!current) throw new Error(`service ${service} has no current version`);
    if (request.ifMatch !== undefined && request.ifMatch !== current.version) {
      throw staleError(service, request.ifMatch, current.version);
    }
    // A change in the middle of a rollout would reach everyone unreviewed: stage it, or end the rollout.
    if (request.publish !== 'staged') {
      const active = await this.rollouts.findActive(manager, service);
      if (active) throw rolloutActive(active);
    }
    const plan = await this.plan(manager, definition, current, request);
    if (plan.configChanges.length === 0 && plan.secretChanges.length === 0) {
      return { state: current, created: false, staged: false, secretUpdates: [] };
    }
    if (!pointer) throw new Error(`service ${service} has no row`);
    return this.commit(manager, definition, pointer, plan, request);
  }

  /** Validates the new config and works out which config paths and secrets change. */
  private async plan(
    manager: EntityManager,
    definition: ServiceDefinition,
    current: ConfigState,
    request: ChangeRequest,
  ): Promise<Plan> {
    let config = current.config;
    if (request.config) {
      const result = validateConfig(definition, request.config(current.config, definition));
      if (!result.ok) {
        throw request.invalid?.(result.issues, definition) ?? validationError(result.issues);
      }
      config = result.config;
    }
    return {
      current,
      config,
      configChanges: diffConfigs(current.config, config),
      secretChanges: await this.secrets.plan(manager, definition.name, request.secrets ?? {}),
    };
  }

  /**
   * Allocates the next version number and, unless staged, moves the pointer to it (or loses the
   * race), then writes the version, the secrets (staged ones apart) and the audit row.
   */
  private async commit(
    manager: EntityManager,
    definition: ServiceDefinition,
    pointer: ServicePointer,
    plan: Plan,
    request: ChangeRequest,
  ): Promise<Committed> {
    const service = definition.name;
    const { current, config, configChanges, secretChanges } = plan;
    const staged = request.publish === 'staged';
    const at = new Date().toISOString();
    const version = pointer.lastVersion + 1;
    const won = await this.repository.allocate(manager, service, pointer, {
      version,
      at,
      actor: request.actor,
      publish: !staged,
    });
    if (!won) {
      const now = await this.repository.findService(manager, service);
      const currentVersion = now?.currentVersion ?? current.version;
      throw new CompareAndSetLost(currentVersion, currentVersion === current.version);
    }
    const secretUpdates = staged
      ? []
      : await this.secrets.apply(manager, service, secretChanges, request.actor, at, version);
    const secrets = applySecretStates(definition, current.secrets, secretChanges, at);
    const reason = request.reason ?? null;
    await this.repository.insertVersion(manager, {
      service,
      version,
      kind: request.kind,
      state: staged ? 'staged' : 'published',
      createdAt: at,
      createdBy: request.actor,
      reason,
      schemaHash: definition.schemaHash,
      config,
      secrets,
    });
    // After the version: a staged secret write belongs to it.
    if (staged) {
      await this.secrets.stage(manager, service, version, secretChanges, request.actor, at);
    }
    await this.audit.record(manager, {
      at,
      actor: request.actor,
      service,
      kind: staged ? `staged-${request.kind}` : request.kind,
      versionBefore: current.version,
      versionAfter: version,
      reason,
      changes: [
        ...configChanges,
        ...secretChanges.map((c) => ({ path: c.path, changed: true as const })),
      ],
    });
    this.logger.log(
      `${service} v${version} (${request.kind}${staged ? ', staged' : ''}) by ${request.actor}: ${configChanges.length} config path(s), ${secretChanges.length} secret(s) changed`,
    );
    return {
      state: {
        service,
        version,
        kind: request.kind,
        updatedAt: at,
        updatedBy: request.actor,
        schemaHash: definition.schemaHash,
        config,
        secrets,
      },
      created: true,
      staged,
      secretUpdates,
    };
  }
}

function staleError(service: string, expected: number, current: number): DomainError {
  return new DomainError(
    ErrorCode.VersionConflict,
    `${service} is at version ${current}, not ${expected}: re-read it, re-apply your change and retry`,
  );
}

function applySecretStates(
  definition: ServiceDefinition,
  before: Readonly<Record<string, SecretState>>,
  changes: readonly SecretChange[],
  at: string,
): Record<string, SecretState> {
  const states = secretFlags(definition, before);
  for (const change of changes) {
    states[change.path] = { set: change.action === 'set', updatedAt: at };
  }
  return states;
}
