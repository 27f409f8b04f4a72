import { Injectable, Logger } from '@nestjs/common';
import {
  type ChangeEntry,
  type ServiceDefinition,
  type ServiceOrigin,
  canonicalJson,
  defaultConfig,
  diffConfigs,
  validateConfig,
} from '@app/contracts';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { ConfigReadsService } from './config-reads.service';
import { ConfigRepository, type ServiceRegistrationFields } from './config-repository';
import { secretFlags } from './config-response';
import type { ConfigState } from './config-state';
import { type CatalogEntry, ServiceCatalog } from './service-catalog';
import { schemaConflict, validationError } from './validation-errors';

/** What a service is to be registered as: its schema and the fields of its row. */
export interface Registration {
  readonly definition: ServiceDefinition;
  readonly origin: ServiceOrigin;
  readonly description: string;
  /** Base64 X25519 public key; null removes it; undefined keeps what the row has. */
  readonly recipientKey?: string | null;
  /** The config to move to when the schema changes (or to start from); validated under it. */
  readonly config?: Record<string, unknown>;
  readonly actor: string;
  readonly reason: string | null;
  /** Where version 1 comes from, for its reason (`layered defaults from …`). */
  readonly initialReason?: string;
  /** Version 1's config when `config` is not given (default: the schema's defaults). */
  readonly initialConfig?: Record<string, unknown>;
}

/** What a registration did in the caller's transaction; `entry` goes to the catalog once it commits. */
export interface RegistrationOutcome {
  readonly entry: CatalogEntry;
  /** The current state after it: a new version when one was created. */
  readonly state: ConfigState;
  readonly created: boolean;
  readonly schemaChanged: boolean;
  /** A config version was made (version 1 of a new service, a `migration`, secrets re-sealed). */
  readonly versionCreated: boolean;
  /** A `migration` version was made under a new schema. */
  readonly migrated: boolean;
  readonly restored: boolean;
  /** Nothing changed: the same schema and fields again. */
  readonly unchanged: boolean;
}

/**
 * Registers services and evolves their schemas, for the registration API and for the services
 * compiled into the manager alike (one rule for both), inside the caller's transaction:
 *
 * - a new service gets schema version 1 and config version 1 (its defaults, or `config`);
 * - the same schema again changes nothing (only the description or recipient key, if given);
 * - a new schema must fit the current config (409 with the failing paths otherwise), unless the
 *   request carries the config to move to; either way it is recorded as the next schema version
 *   with a config version of kind `migration` validated under it, so the config on the bus
 *   always names the schema on the bus;
 * - registering an archived service restores it.
 *
 * The audit gets a `schema` row per schema version (the schema's diff), a `migration` row for
 * the config version it made, and `register`/`restore` rows for the other changes.
 *
 * One file (~450 lines) on purpose: registration, schema evolution, key rotation and archiving
 * are steps of one transaction over the same rows, and the evolution rule reads best in order.
 */
@Injectable()
export class ServiceRegistrar {
  private readonly logger = new Logger(ServiceRegistrar.name);

  constructor(
    private readonly repository: ConfigRepository,
    private readonly reads: ConfigReadsService,
    private readonly catalog: ServiceCatalog,
    private readonly audit: AuditService,
  ) {}

  /** Registers or updates one service; the caller commits and then publishes. */
  async register(manager: EntityManager, registration: Registration): Promise<RegistrationOutcome> {
    const service = registration.definition.name;
    const pointer = await this.repository.lock(manager, service);
    if (!pointer) return this.create(manager, registration);
    const known = await this.catalog.sync(manager, pointer);
    const current = await this.reads.loadCurrent(manager, service);
    if (!current) throw new Error(`service ${service} has no current version`);
    const at = new Date().toISOString();
    const fields = changedFields(pointer, registration);
    const schemaChanged = known?.definition.schemaHash !== registration.definition.schemaHash;
    let state = current;
    let versionCreated = false;
    if (schemaChanged) {
      const schemaVersion = pointer.schemaVersion + 1;
      const next = this.migrate(current, registration, known);
      if (next.changes.length > 0 || known !== undefined) {
        const reason = `migration to schema ${registration.definition.schemaHash}`;
        state = await this.commitVersion(manager, registration, current, next.config, at, {
          kind: 'migration',
          reason,
        });
        versionCreated = true;
      }
      await this.repository.insertSchema(manager, {
        service,
        schemaVersion,
        schemaHash: registration.definition.schemaHash,
        document: registration.definition.jsonSchema as Record<string, unknown>,
        createdAt: at,
        createdBy: registration.actor,
        reason: registration.reason,
      });
      fields.schemaVersion = schemaVersion;
      await this.recordSchema(manager, registration, known, schemaVersion, current, state, at);
      if (versionCreated) {
        await this.recordVersion(manager, registration, current, state, next.changes, at);
      }
    } else if (registration.config !== undefined) {
      this.requireUnchangedConfig(current, registration);
    }
    if (
      fields.recipientKey !== undefined &&
      !versionCreated &&
      registration.definition.secretPaths.length > 0
    ) {
      // Re-sealed to the new key in a version of its own, so that every worker gets it.
      state = await this.commitVersion(manager, registration, current, current.config, at, {
        kind: 'secret',
        reason: 'secrets sealed to a new recipient key',
      });
      versionCreated = true;
      await this.audit.record(manager, {
        at,
        actor: registration.actor,
        service,
        kind: 'secret',
        versionBefore: current.version,
        versionAfter: state.version,
        reason: registration.reason ?? 'secrets sealed to a new recipient key',
        changes: [{ path: 'recipientKey', changed: true }],
      });
    }
    const restored = pointer.archivedAt !== null;
    if (restored) fields.archivedAt = null;
    await this.repository.updateService(manager, service, fields);
    const unchanged = Object.keys(fields).length === 0 && !schemaChanged;
    if (!unchanged && !schemaChanged) {
      await this.recordFields(manager, registration, restored ? 'restore' : 'register', state, at);
    }
    const entry = await this.syncedEntry(manager, service);
    return {
      entry,
      state,
      created: false,
      schemaChanged,
      versionCreated,
      migrated: schemaChanged && versionCreated && state.kind === 'migration',
      restored,
      unchanged,
    };
  }

  /** Archives a service: its row says so, its history stays; the caller publishes the tombstone. */
  async archive(
    manager: EntityManager,
    service: string,
    actor: string,
    reason: string | null,
  ): Promise<{ entry: CatalogEntry; state: ConfigState; changed: boolean }> {
    const pointer = await this.repository.lock(manager, service);
    if (pointer) await this.catalog.sync(manager, pointer);
    const known = this.catalog.entry(service);
    if (known.origin === 'code') {
      throw new DomainError(
        ErrorCode.CodeRegistered,
        `${service} is registered by the manager's code and cannot be archived`,
      );
    }
    const state = await this.reads.loadCurrent(manager, service);
    if (!pointer || !state) throw new Error(`service ${service} has no current version`);
    if (pointer.archivedAt !== null) return { entry: known, state, changed: false };
    const at = new Date().toISOString();
    await this.repository.updateService(manager, service, { archivedAt: at });
    await this.audit.record(manager, {
      at,
      actor,
      service,
      kind: 'archive',
      versionBefore: state.version,
      versionAfter: state.version,
      reason,
      changes: [{ path: 'archivedAt', from: null, to: at }],
    });
    this.logger.log(`${service} archived by ${actor} at version ${state.version}`);
    return { entry: await this.syncedEntry(manager, service), state, changed: true };
  }

  private async create(
    manager: EntityManager,
    registration: Registration,
  ): Promise<RegistrationOutcome> {
    const { definition, actor } = registration;
    const service = definition.name;
    const source = registration.config ?? registration.initialConfig ?? defaultConfig(definition);
    const result = validateConfig(definition, source);
    if (!result.ok) throw validationError(result.issues);
    const at = new Date().toISOString();
    await this.repository.insertService(
      manager,
      service,
      { version: 1, at, actor },
      {
        description: registration.description,
        schemaVersion: 1,
        origin: registration.origin,
        recipientKey: registration.recipientKey ?? null,
      },
    );
    await this.repository.insertSchema(manager, {
      service,
      schemaVersion: 1,
      schemaHash: definition.schemaHash,
      document: definition.jsonSchema as Record<string, unknown>,
      createdAt: at,
      createdBy: actor,
      reason: registration.reason,
    });
    const reason = registration.reason ?? registration.initialReason ?? 'registered';
    const secrets = secretFlags(definition, {});
    await this.repository.insertVersion(manager, {
      service,
      version: 1,
      kind: 'initial',
      state: 'published',
      createdAt: at,
      createdBy: actor,
      reason,
      schemaHash: definition.schemaHash,
      config: result.config,
      secrets,
    });
    const state: ConfigState = {
      service,
      version: 1,
      kind: 'initial',
      updatedAt: at,
      updatedBy: actor,
      schemaHash: definition.schemaHash,
      config: result.config,
      secrets,
    };
    await this.recordSchema(manager, registration, undefined, 1, undefined, state, at);
    await this.audit.record(manager, {
      at,
      actor,
      service,
      kind: 'initial',
      versionBefore: null,
      versionAfter: 1,
      reason,
      changes: [],
    });
    this.logger.log(
      `Registered ${service} (${registration.origin}): schema version 1, version 1 (${reason})`,
    );
    return {
      entry: await this.syncedEntry(manager, service),
      state,
      created: true,
      schemaChanged: true,
      versionCreated: true,
      migrated: false,
      restored: false,
      unchanged: false,
    };
  }

  /** The config under the new schema: the request's, or the current one if it fits. */
  private migrate(
    current: ConfigState,
    registration: Registration,
    known: CatalogEntry | undefined,
  ): { config: Record<string, unknown>; changes: ChangeEntry[] } {
    const { definition } = registration;
    const source = registration.config ?? current.config;
    const result = validateConfig(definition, source);
    if (!result.ok) {
      if (registration.config !== undefined) throw validationError(result.issues);
      throw schemaConflict(
        `${definition.name} version ${current.version} does not fit the new schema ` +
          `(${known ? `replacing schema version ${known.schemaVersion}` : 'its first recorded schema'}); ` +
          'send the config to move to as "config" with the schema',
        result.issues,
      );
    }
    return { config: result.config, changes: diffConfigs(current.config, result.config) };
  }

  /** With an unchanged schema, `config` is only accepted as a retry of a migration already made. */
  private requireUnchangedConfig(current: ConfigState, registration: Registration): void {
    const result = validateConfig(registration.definition, registration.config);
    if (!result.ok) throw validationError(result.issues);
    if (canonicalJson(result.config) !== canonicalJson(current.config)) {
      const message =
        `${registration.definition.name}'s schema is unchanged, so "config" is not applied: ` +
        `change the config with PUT or PATCH /api/services/${registration.definition.name}/config`;
      throw new DomainError(ErrorCode.SchemaConflict, message, [{ path: 'config', message }]);
    }
  }

  /** Moves the pointer and writes a version (a `migration`, or secrets re-sealed) under the new schema. */
  private async commitVersion(
    manager: EntityManager,
    registration: Registration,
    current: ConfigState,
    config: Record<string, unknown>,
    at: string,
    made: { kind: 'migration' | 'secret'; reason: string },
  ): Promise<ConfigState> {
    const { definition, actor } = registration;
    const service = definition.name;
    // The row is locked: nobody else can have moved it.
    const pointer = await this.repository.findService(manager, service);
    if (!pointer) throw new Error(`service ${service} has no row`);
    const version = pointer.lastVersion + 1;
    const won = await this.repository.allocate(manager, service, pointer, {
      version,
      at,
      actor,
      publish: true,
    });
    if (!won) throw new Error(`${service} moved while its row was locked`);
    const secrets = secretFlags(definition, current.secrets);
    const reason = registration.reason ?? made.reason;
    await this.repository.insertVersion(manager, {
      service,
      version,
      kind: made.kind,
      state: 'published',
      createdAt: at,
      createdBy: actor,
      reason,
      schemaHash: definition.schemaHash,
      config,
      secrets,
    });
    return {
      service,
      version,
      kind: made.kind,
      updatedAt: at,
      updatedBy: actor,
      schemaHash: definition.schemaHash,
      config,
      secrets,
    };
  }

  private async recordSchema(
    manager: EntityManager,
    registration: Registration,
    known: CatalogEntry | undefined,
    schemaVersion: number,
    before: ConfigState | undefined,
    after: ConfigState,
    at: string,
  ): Promise<void> {
    const { definition } = registration;
    const previous = (known?.definition.jsonSchema ?? {}) as Record<string, unknown>;
    await this.audit.record(manager, {
      at,
      actor: registration.actor,
      service: definition.name,
      kind: 'schema',
      versionBefore: before?.version ?? null,
      versionAfter: after.version,
      reason: registration.reason,
      changes: [
        { path: 'schemaVersion', from: known?.schemaVersion ?? null, to: schemaVersion },
        {
          path: 'schemaHash',
          from: known?.definition.schemaHash ?? null,
          to: definition.schemaHash,
        },
        ...diffConfigs(previous, definition.jsonSchema as Record<string, unknown>).map((c) => ({
          ...c,
          path: `schema.${c.path}`,
        })),
      ],
    });
    this.logger.log(
      `${definition.name} schema version ${schemaVersion} (${definition.schemaHash}) by ${registration.actor}`,
    );
  }

  private async recordVersion(
    manager: EntityManager,
    registration: Registration,
    before: ConfigState,
    after: ConfigState,
    changes: ChangeEntry[],
    at: string,
  ): Promise<void> {
    await this.audit.record(manager, {
      at,
      actor: registration.actor,
      service: after.service,
      kind: 'migration',
      versionBefore: before.version,
      versionAfter: after.version,
      reason: registration.reason,
      changes,
    });
  }

  private async recordFields(
    manager: EntityManager,
    registration: Registration,
    kind: 'register' | 'restore',
    state: ConfigState,
    at: string,
  ): Promise<void> {
    await this.audit.record(manager, {
      at,
      actor: registration.actor,
      service: registration.definition.name,
      kind,
      versionBefore: state.version,
      versionAfter: state.version,
      reason: registration.reason,
      changes: [],
    });
  }

  /** The entry the row now describes; the caller keeps it in the catalog once committed. */
  private async syncedEntry(manager: EntityManager, service: string): Promise<CatalogEntry> {
    const pointer = await this.repository.findService(manager, service);
    const entry = pointer ? await this.catalog.load(manager, pointer) : undefined;
    if (!entry) throw new Error(`service ${service} has no schema after registering it`);
    return entry;
  }
}

/** The row fields a registration changes (description and recipient key, when given). */
function changedFields(
  pointer: { description: string; recipientKey: string | null },
  registration: Registration,
): ServiceRegistrationFields {
  const fields: ServiceRegistrationFields = {};
  if (registration.description !== pointer.description) {
    fields.description = registration.description;
  }
  if (
    registration.recipientKey !== undefined &&
    registration.recipientKey !== pointer.recipientKey
  ) {
    fields.recipientKey = registration.recipientKey;
  }
  return fields;
}
