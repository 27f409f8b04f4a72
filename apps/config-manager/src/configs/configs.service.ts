import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  ConfigIssue,
  ServiceDefinition,
  deepMerge,
  diffConfigs,
  findServiceDefinition,
  serviceDefinitions,
  validateConfig,
} from '@app/contracts';
import { AuditChange, AuditService } from '../audit/audit.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DatabaseService } from '../database/database.service';
import { SecretCacheUpdate, SecretChange, SecretsService } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { ConfigCacheService } from './config-cache.service';
import type { ConfigState, SecretState } from './config-state';
import { ConfigStoreService, StoredVersion, VersionSummary } from './config-store.service';
import { loadLayeredDefaults } from './defaults-loader';
import { VersionKind } from './entities/config-version.entity';
import { ServiceEntity } from './entities/service.entity';

/** Who is changing what, why, and against which version they read. */
export interface ChangeContext {
  actor: string;
  reason?: string;
  /** From If-Match: the version the client last saw; a different current version is a 412. */
  ifMatch?: number;
}

/** A requested change: a new config computed from the current one, and/or secret writes. */
export interface ChangeRequest extends ChangeContext {
  kind: VersionKind;
  config?: (current: Readonly<Record<string, unknown>>) => unknown;
  /** Secret writes by path; '' clears. */
  secrets?: Readonly<Record<string, string>>;
}

/** The state after a change, whether a new version was created, and whether it reached the broker. */
export interface ChangeResult {
  state: ConfigState;
  created: boolean;
  published: boolean;
}

/**
 * Delivers committed versions to the fleet (the MQTT publisher). The database is the source of
 * truth: a version is committed first and published after, and a failed publish never fails
 * the write.
 */
export interface VersionPublisher {
  /** Publishes the given state; resolves false if the broker did not acknowledge it (yet). */
  publish(state: ConfigState): Promise<boolean>;
  /** Whether this version (or a later one) of the service was acknowledged by the broker. */
  isPublished(service: string, version: number): boolean;
}

/** What one transaction produced, before it is published. */
interface AppliedChange {
  state: ConfigState;
  created: boolean;
  secretUpdates: SecretCacheUpdate[];
}

/** One line of a diff between two versions. */
export type DiffEntry = AuditChange;

const SYSTEM_ACTOR = 'system';
// Without If-Match a writer that loses the compare-and-set re-reads and re-applies its patch.
const MAX_CAS_ATTEMPTS = 8;
const MAX_ISSUES_IN_MESSAGE = 5;

/** Thrown inside a transaction when another writer committed first. */
class CompareAndSetLost extends Error {
  constructor(readonly currentVersion: number) {
    super('compare-and-set lost');
  }
}

/**
 * The configuration use cases: read current state from memory, and turn every accepted change
 * into one new immutable version with its secrets and audit row, in one transaction guarded by a
 * compare-and-set on the service's current version.
 */
@Injectable()
export class ConfigsService implements OnModuleInit {
  private readonly logger = new Logger(ConfigsService.name);
  private publisher: VersionPublisher | undefined;

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly db: DatabaseService,
    private readonly cache: ConfigCacheService,
    private readonly store: ConfigStoreService,
    private readonly secrets: SecretsService,
    private readonly audit: AuditService,
  ) {}

  /** Gives every registered service its version 1 (layered defaults) and warms the cache. */
  async onModuleInit(): Promise<void> {
    for (const definition of serviceDefinitions()) {
      const defaults = loadLayeredDefaults(
        definition,
        this.settings.defaultsDir,
        this.settings.appEnv,
      );
      await this.ensureInitial(definition, defaults.config, defaults.sources);
    }
    await this.secrets.verifyKeys();
  }

  /** Connects the publisher that delivers every committed version. */
  attachPublisher(publisher: VersionPublisher): void {
    this.publisher = publisher;
  }

  /** Whether the broker acknowledged this state's version. */
  isPublished(state: ConfigState): boolean {
    return this.publisher?.isPublished(state.service, state.version) ?? false;
  }

  /** Re-reads a service's current state and secrets from the database (another replica wrote). */
  async refresh(service: string): Promise<ConfigState> {
    const state = await this.db.read((m) => this.store.loadCurrent(m, service));
    if (!state) throw new Error(`service ${service} has no current version`);
    await this.secrets.reload(service);
    this.cache.set(state);
    return this.cache.get(service) ?? state;
  }

  /** The registered definition of a service, or 404. */
  definition(service: string): ServiceDefinition {
    const definition = findServiceDefinition(service);
    if (!definition) {
      throw new DomainError(ErrorCode.UnknownService, `Unknown service "${truncate(service)}"`);
    }
    return definition;
  }

  /** Current state of a service, from memory. */
  current(service: string): ConfigState {
    const definition = this.definition(service);
    const state = this.cache.get(definition.name);
    if (!state) throw new Error(`no cached state for ${definition.name}`);
    return state;
  }

  /** Current state of every registered service. */
  list(): ConfigState[] {
    return this.cache.all();
  }

  /** Deep-merges a partial config into the current one and validates the merged whole. */
  async patch(service: string, patch: unknown, context: ChangeContext): Promise<ChangeResult> {
    const definition = this.definition(service);
    const body = requireObject(patch);
    return this.change(service, {
      ...context,
      kind: 'update',
      config: (current) => deepMerge(current, body, { mapPaths: definition.mapPaths }),
    });
  }

  /** Replaces the whole config; omitted fields take their schema defaults. */
  async replace(service: string, body: unknown, context: ChangeContext): Promise<ChangeResult> {
    const config = requireObject(body);
    return this.change(service, { ...context, kind: 'update', config: () => config });
  }

  /** Makes a new version whose config is that of an earlier version (secrets are not rolled back). */
  async rollback(
    service: string,
    toVersion: number,
    context: ChangeContext,
  ): Promise<ChangeResult> {
    this.definition(service);
    const target = await this.store.getVersion(service, toVersion);
    return this.change(service, {
      ...context,
      reason: context.reason ?? `rollback to version ${toVersion}`,
      kind: 'rollback',
      config: () => target.config,
    });
  }

  /** Sets (or with '' clears) one secret; a version is created only if something changed. */
  async writeSecret(
    service: string,
    path: string,
    value: string,
    context: ChangeContext,
  ): Promise<ChangeResult> {
    this.requireSecretPath(service, path);
    return this.change(service, { ...context, kind: 'secret', secrets: { [path]: value } });
  }

  requireSecretPath(service: string, path: string): void {
    const definition = this.definition(service);
    if (!definition.secretPaths.includes(path)) {
      throw new DomainError(
        ErrorCode.UnknownSecretPath,
        `${definition.name} has no secret "${truncate(path)}"; its secrets are: ${definition.secretPaths.join(', ') || 'none'}`,
      );
    }
  }

  async history(service: string, limit: number, before?: number): Promise<VersionSummary[]> {
    return this.store.listVersions(this.definition(service).name, limit, before);
  }

  async version(service: string, version: number): Promise<StoredVersion> {
    return this.store.getVersion(this.definition(service).name, version);
  }

  /** Changed paths between two versions; secrets show only that they changed. */
  async diff(service: string, from: number, to: number): Promise<DiffEntry[]> {
    const name = this.definition(service).name;
    const [a, b] = await Promise.all([
      this.store.getVersion(name, from),
      this.store.getVersion(name, to),
    ]);
    return [...diffConfigs(a.config, b.config), ...diffSecrets(a.secrets, b.secrets)];
  }

  /**
   * Applies a change in one transaction: check If-Match, compute and validate the new config,
   * plan secret writes, and if anything changed, compare-and-set the service's version pointer,
   * insert the version, write secrets and the audit row. A change that changes nothing creates
   * no version and returns the current state.
   */
  async change(service: string, request: ChangeRequest): Promise<ChangeResult> {
    const definition = this.definition(service);
    for (let attempt = 1; ; attempt++) {
      try {
        const applied = await this.db.transaction((manager) =>
          this.applyOnce(manager, definition, request),
        );
        if (!applied.created) {
          return {
            state: applied.state,
            created: false,
            published: this.isPublished(applied.state),
          };
        }
        if (this.settings.chaosExitAfterCommit) {
          // Test hook (chaos/ scenario 2, never in production): crash between the commit and the
          // publish, so only the outbox (republish on connect, sweep) can deliver this version.
          this.logger.warn(
            `CHAOS_EXIT_AFTER_COMMIT: killed after committing ${service} v${applied.state.version}`,
          );
          process.kill(process.pid, 'SIGKILL');
        }
        this.cache.set(applied.state);
        this.secrets.commitToCache(service, applied.secretUpdates);
        const published = (await this.publisher?.publish(applied.state)) ?? false;
        return { state: applied.state, created: true, published };
      } catch (error) {
        if (!(error instanceof CompareAndSetLost)) throw error;
        if (request.ifMatch !== undefined || attempt >= MAX_CAS_ATTEMPTS) {
          throw staleError(service, request.ifMatch ?? error.currentVersion, error.currentVersion);
        }
      }
    }
  }

  private async applyOnce(
    manager: EntityManager,
    definition: ServiceDefinition,
    request: ChangeRequest,
  ): Promise<AppliedChange> {
    const service = definition.name;
    // Claim the service row before reading it: writers to one service queue here instead of
    // racing and retrying (a row lock on Postgres; on SQLite the write lock, which also avoids
    // upgrading a stale read snapshot). The compare-and-set below still guards correctness.
    await manager
      .createQueryBuilder()
      .update(ServiceEntity)
      .set({ currentVersion: () => 'current_version' })
      .where('name = :service', { service })
      .execute();
    const current = await this.store.loadCurrent(manager, service);
    if (!current) throw new Error(`service ${service} has no current version`);
    if (request.ifMatch !== undefined && request.ifMatch !== current.version) {
      throw staleError(service, request.ifMatch, current.version);
    }

    let config = current.config;
    if (request.config) {
      const result = validateConfig(definition, request.config(current.config));
      if (!result.ok) throw validationError(result.issues);
      config = result.config;
    }
    const configChanges = diffConfigs(current.config, config);
    const secretChanges = await this.secrets.plan(manager, service, request.secrets ?? {});
    if (configChanges.length === 0 && secretChanges.length === 0) {
      return { state: current, created: false, secretUpdates: [] };
    }

    const at = new Date().toISOString();
    const version = current.version + 1;
    const updated = await manager
      .createQueryBuilder()
      .update(ServiceEntity)
      .set({ currentVersion: version, updatedAt: at, updatedBy: request.actor })
      .where('name = :service AND current_version = :expected', {
        service,
        expected: current.version,
      })
      .execute();
    if (updated.affected !== 1) {
      const row = await manager.findOneBy(ServiceEntity, { name: service });
      throw new CompareAndSetLost(row?.currentVersion ?? current.version);
    }

    const secretUpdates = await this.secrets.apply(
      manager,
      service,
      secretChanges,
      request.actor,
      at,
    );
    const secrets = applySecretStates(definition, current.secrets, secretChanges, at);
    const reason = request.reason ?? null;
    await this.store.insertVersion(manager, {
      service,
      version,
      kind: request.kind,
      createdAt: at,
      createdBy: request.actor,
      reason,
      config,
      secrets,
    });
    await this.audit.record(manager, {
      at,
      actor: request.actor,
      service,
      kind: request.kind,
      versionBefore: current.version,
      versionAfter: version,
      reason,
      changes: [
        ...configChanges,
        ...secretChanges.map((c) => ({ path: c.path, changed: true as const })),
      ],
    });
    this.logger.log(
      `${service} v${version} (${request.kind}) by ${request.actor}: ${configChanges.length} config path(s), ${secretChanges.length} secret(s) changed`,
    );
    return {
      state: {
        service,
        version,
        kind: request.kind,
        updatedAt: at,
        updatedBy: request.actor,
        config,
        secrets,
      },
      created: true,
      secretUpdates,
    };
  }

  private async ensureInitial(
    definition: ServiceDefinition,
    config: Record<string, unknown>,
    sources: string[],
  ): Promise<void> {
    const service = definition.name;
    try {
      await this.db.transaction(async (manager) => {
        if (await manager.findOneBy(ServiceEntity, { name: service })) return;
        const at = new Date().toISOString();
        const reason = `initial defaults from ${sources.join(' + ')}`;
        await manager.insert(ServiceEntity, {
          name: service,
          currentVersion: 1,
          updatedAt: at,
          updatedBy: SYSTEM_ACTOR,
        });
        await this.store.insertVersion(manager, {
          service,
          version: 1,
          kind: 'initial',
          createdAt: at,
          createdBy: SYSTEM_ACTOR,
          reason,
          config,
          secrets: Object.fromEntries(
            definition.secretPaths.map((p) => [p, { set: false, updatedAt: null }]),
          ),
        });
        await this.audit.record(manager, {
          at,
          actor: SYSTEM_ACTOR,
          service,
          kind: 'initial',
          versionBefore: null,
          versionAfter: 1,
          reason,
          changes: [],
        });
        this.logger.log(`Created ${service} version 1 from ${sources.join(' + ')}`);
      });
    } catch (error) {
      // Another replica may have created it first; anything else is a real failure.
      const exists = await this.db.read((m) => m.findOneBy(ServiceEntity, { name: service }));
      if (!exists) throw error;
    }
    const state = await this.db.read((m) => this.store.loadCurrent(m, service));
    if (state) this.cache.set(state);
  }
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DomainError(ErrorCode.ValidationFailed, 'Request body must be a JSON object', [
      { path: '', message: 'request body must be a JSON object' },
    ]);
  }
  return body as Record<string, unknown>;
}

function validationError(issues: ConfigIssue[]): DomainError {
  const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => i.message);
  const more =
    issues.length > MAX_ISSUES_IN_MESSAGE
      ? ` (and ${issues.length - MAX_ISSUES_IN_MESSAGE} more)`
      : '';
  return new DomainError(
    ErrorCode.ValidationFailed,
    `Invalid configuration: ${shown.join('; ')}${more}`,
    issues,
  );
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
  const states: Record<string, SecretState> = {};
  for (const path of definition.secretPaths) {
    states[path] = before[path] ?? { set: false, updatedAt: null };
  }
  for (const change of changes) {
    states[change.path] = { set: change.action === 'set', updatedAt: at };
  }
  return states;
}

function diffSecrets(
  a: Readonly<Record<string, SecretState>>,
  b: Readonly<Record<string, SecretState>>,
): DiffEntry[] {
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return paths
    .filter((p) => a[p]?.set !== b[p]?.set || a[p]?.updatedAt !== b[p]?.updatedAt)
    .map((path) => ({ path, changed: true as const }));
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}
