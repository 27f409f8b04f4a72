import { Injectable } from '@nestjs/common';
import type {
  SchemaVersionSummary,
  ServiceOrigin,
  VersionKind,
  VersionState,
  VersionSummary,
} from '@app/contracts';
import { EntityManager, LessThan } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DatabaseService } from '../database/database.service';
import { runSql } from '../database/sql';
import { VersionStore } from '../database/version-store';
import type { Snapshot } from './config-state';
import { ConfigVersionEntity } from './entities/config-version.entity';
import { ServiceSchemaEntity } from './entities/service-schema.entity';
import { ServiceEntity } from './entities/service.entity';

/** A stored version with its decoded content. */
export interface StoredVersion extends Snapshot {
  service: string;
  version: number;
  kind: VersionKind;
  /** `staged` until deployed (X-Publish: staged); `published` for every other version. */
  state: VersionState;
  createdAt: string;
  createdBy: string;
  reason: string | null;
  /** The schema the config was validated under; null for versions from before the registry. */
  schemaHash: string | null;
}

/** The version pointer of one service and what it is registered as (its `services` row). */
export interface ServicePointer {
  name: string;
  currentVersion: number;
  /** Highest version number allocated (staged or not); the next version is one more. */
  lastVersion: number;
  updatedAt: string;
  updatedBy: string;
  /** Highest version the broker acknowledged (the publication outbox mark); null: none yet. */
  publishedVersion: number | null;
  description: string;
  /** The current schema version; 0 before the first was recorded. */
  schemaVersion: number;
  origin: ServiceOrigin;
  recipientKey: string | null;
  archivedAt: string | null;
}

/** What a service is registered as (the fields of its row besides the version pointer). */
export type ServiceRegistrationFields = Partial<
  Pick<ServicePointer, 'description' | 'schemaVersion' | 'origin' | 'recipientKey' | 'archivedAt'>
>;

/** One schema a service had. */
export interface StoredSchema extends SchemaVersionSummary {
  service: string;
  /** The JSON Schema document. */
  document: Record<string, unknown>;
}

/** Who moves a service's pointer, when. */
export interface PointerMove {
  version: number;
  at: string;
  actor: string;
}

/** A new version number: staged, or published (the current pointer moves to it too). */
export interface Allocation extends PointerMove {
  publish: boolean;
}

// The write path's statements on `services`, constant so each is prepared once (database/sql.ts).
const SERVICE_COLUMNS =
  'name, current_version, last_version, updated_at, updated_by, published_version, description, ' +
  'schema_version, origin, recipient_key, archived_at';
const LOCK_SERVICE = `UPDATE {services} SET current_version = current_version WHERE name = ? RETURNING ${SERVICE_COLUMNS}`;
const ALLOCATE_PUBLISHED =
  'UPDATE {services} SET last_version = ?, current_version = ?, updated_at = ?, updated_by = ? ' +
  'WHERE name = ? AND current_version = ? AND last_version = ?';
const MARK_PUBLISHED =
  'UPDATE {services} SET published_version = ? ' +
  'WHERE name = ? AND (published_version IS NULL OR published_version < ?)';
const ALLOCATE_STAGED =
  'UPDATE {services} SET last_version = ? WHERE name = ? AND current_version = ? AND last_version = ?';

/** A `services` row as the statements above return it. */
function pointerOf(row: Record<string, unknown>): ServicePointer {
  return {
    name: row.name as string,
    currentVersion: Number(row.current_version),
    lastVersion: Number(row.last_version),
    updatedAt: row.updated_at as string,
    updatedBy: row.updated_by as string,
    publishedVersion: row.published_version === null ? null : Number(row.published_version),
    description: row.description as string,
    schemaVersion: Number(row.schema_version),
    origin: row.origin as ServiceOrigin,
    recipientKey: (row.recipient_key as string | null) ?? null,
    archivedAt: (row.archived_at as string | null) ?? null,
  };
}

/**
 * Every query on `services` (one row per service: the pointer to its current version, the
 * highest version allocated, the compare-and-set target, the outbox mark) and
 * `config_versions` (immutable snapshots; only a staged one's state changes, when deployed; their
 * rows are encoded by VersionStore). Methods
 * taking an EntityManager run inside the caller's transaction; the others open their own read.
 */
@Injectable()
export class ConfigRepository {
  constructor(
    private readonly db: DatabaseService,
    private readonly versions: VersionStore,
  ) {}

  /** The pointer of a service, or undefined for a service the store does not have. */
  findService(manager: EntityManager, service: string): Promise<ServicePointer | null> {
    return manager.findOneBy(ServiceEntity, { name: service });
  }

  /** Every service's pointer. */
  listServices(): Promise<ServicePointer[]> {
    return this.db.read((m) => m.find(ServiceEntity));
  }

  /**
   * Claims the service row for this transaction, so that writers to one service queue here
   * instead of racing and retrying: a row lock on Postgres, the write lock on SQLite (which also
   * avoids upgrading a stale read snapshot). The compare-and-set still guards correctness.
   */
  async lock(manager: EntityManager, service: string): Promise<ServicePointer | null> {
    const { rows } = await runSql(manager, LOCK_SERVICE, [service]);
    return rows.length === 0 ? null : pointerOf(rows[0]);
  }

  /**
   * Allocates `next.version` (one more than `expected.lastVersion`) and, when it is published,
   * moves the current pointer to it; false when another writer got there first (either number
   * moved). A staged version leaves the pointer, and who last moved it, as they are.
   */
  async allocate(
    manager: EntityManager,
    service: string,
    expected: Pick<ServicePointer, 'currentVersion' | 'lastVersion'>,
    next: Allocation,
  ): Promise<boolean> {
    if (next.version !== expected.lastVersion + 1) {
      throw new Error(
        `${service}: v${next.version} is not the next version after ${expected.lastVersion}`,
      );
    }
    const { affected } = next.publish
      ? await runSql(manager, ALLOCATE_PUBLISHED, [
          next.version,
          next.version,
          next.at,
          next.actor,
          service,
          expected.currentVersion,
          expected.lastVersion,
        ])
      : await runSql(manager, ALLOCATE_STAGED, [
          next.version,
          service,
          expected.currentVersion,
          expected.lastVersion,
        ]);
    return affected === 1;
  }

  /**
   * Allocates `next.version`, published, above every version the store has (`expected.lastVersion`)
   * and above what the fleet was found running: a restored store skips the numbers its backup
   * never saw, so every worker takes the version as newer. False when another writer (or
   * replica) moved either number first.
   */
  async allocateAbove(
    manager: EntityManager,
    service: string,
    expected: Pick<ServicePointer, 'currentVersion' | 'lastVersion'>,
    next: PointerMove,
  ): Promise<boolean> {
    if (next.version <= expected.lastVersion) {
      throw new Error(`${service}: v${next.version} is not above v${expected.lastVersion}`);
    }
    const updated = await manager
      .createQueryBuilder()
      .update(ServiceEntity)
      .set({
        lastVersion: next.version,
        currentVersion: next.version,
        updatedAt: next.at,
        updatedBy: next.actor,
      })
      .where('name = :service AND current_version = :current AND last_version = :last', {
        service,
        current: expected.currentVersion,
        last: expected.lastVersion,
      })
      .execute();
    return updated.affected === 1;
  }

  /**
   * Moves the current pointer from `expected` to an existing, already allocated version (a
   * rollout completing its candidate); false when the pointer is no longer at `expected`.
   */
  async promote(
    manager: EntityManager,
    service: string,
    expected: number,
    next: PointerMove,
  ): Promise<boolean> {
    const updated = await manager
      .createQueryBuilder()
      .update(ServiceEntity)
      .set({ currentVersion: next.version, updatedAt: next.at, updatedBy: next.actor })
      .where('name = :service AND current_version = :expected AND last_version >= :version', {
        service,
        expected,
        version: next.version,
      })
      .execute();
    return updated.affected === 1;
  }

  /** Creates the row of a new service, its pointer at version 1. */
  async insertService(
    manager: EntityManager,
    service: string,
    first: PointerMove,
    fields: ServiceRegistrationFields = {},
  ): Promise<void> {
    await manager.insert(ServiceEntity, {
      name: service,
      currentVersion: first.version,
      lastVersion: first.version,
      updatedAt: first.at,
      updatedBy: first.actor,
      ...fields,
    });
  }

  /** Changes what a service is registered as (never its version pointer). */
  async updateService(
    manager: EntityManager,
    service: string,
    fields: ServiceRegistrationFields,
  ): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    await manager.update(ServiceEntity, { name: service }, fields);
  }

  /** Records a schema version of a service (immutable). */
  async insertSchema(manager: EntityManager, schema: StoredSchema): Promise<void> {
    await manager.insert(ServiceSchemaEntity, {
      service: schema.service,
      schemaVersion: schema.schemaVersion,
      schemaHash: schema.schemaHash,
      document: JSON.stringify(schema.document),
      createdAt: schema.createdAt,
      createdBy: schema.createdBy,
      reason: schema.reason,
    });
  }

  /** One schema version, or undefined. */
  async findSchema(
    manager: EntityManager,
    service: string,
    schemaVersion: number,
  ): Promise<StoredSchema | undefined> {
    const row = await manager.findOneBy(ServiceSchemaEntity, { service, schemaVersion });
    return row ? toStoredSchema(row) : undefined;
  }

  /** One schema version, or 404. */
  async getSchema(service: string, schemaVersion: number): Promise<StoredSchema> {
    const found = await this.db.read((m) => this.findSchema(m, service, schemaVersion));
    if (!found) {
      throw new DomainError(
        ErrorCode.UnknownVersion,
        `${service} has no schema version ${schemaVersion}`,
      );
    }
    return found;
  }

  /** Every schema version of a service, newest first. */
  listSchemas(service: string): Promise<SchemaVersionSummary[]> {
    return this.db.read((m) =>
      m.find(ServiceSchemaEntity, {
        select: {
          schemaVersion: true,
          schemaHash: true,
          createdAt: true,
          createdBy: true,
          reason: true,
        },
        where: { service },
        order: { schemaVersion: 'DESC' },
      }),
    );
  }

  /** Raises each service's outbox mark to its version (never lowers one); in one transaction of their own. */
  async markPublished(marks: Iterable<readonly [service: string, version: number]>): Promise<void> {
    await this.db.transaction(async (m) => {
      for (const [service, version] of marks) {
        await runSql(m, MARK_PUBLISHED, [version, service, version]);
      }
    });
  }

  /** Inserts an immutable version row (inside the caller's transaction). */
  insertVersion(manager: EntityManager, version: StoredVersion): Promise<void> {
    return this.versions.insert(manager, version);
  }

  /** One version, or undefined. */
  findVersion(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<StoredVersion | undefined> {
    return this.versions.find(manager, service, version);
  }

  /** Whether the store has version `version` of a service (in any state). */
  async versionExists(manager: EntityManager, service: string, version: number): Promise<boolean> {
    return (await manager.countBy(ConfigVersionEntity, { service, version })) > 0;
  }

  /** One version, or 404. */
  async getVersion(service: string, version: number): Promise<StoredVersion> {
    const found = await this.db.read((m) => this.findVersion(m, service, version));
    if (!found) {
      throw new DomainError(ErrorCode.UnknownVersion, `${service} has no version ${version}`);
    }
    return found;
  }

  /** History, newest first; `before` is an exclusive version cursor. */
  listVersions(service: string, limit: number, before?: number): Promise<VersionSummary[]> {
    return this.db.read((m) =>
      m.find(ConfigVersionEntity, {
        select: {
          version: true,
          createdAt: true,
          createdBy: true,
          reason: true,
          kind: true,
          state: true,
        },
        where: { service, ...(before ? { version: LessThan(before) } : {}) },
        order: { version: 'DESC' },
        take: limit,
      }),
    );
  }

  /** Marks a staged version deployed (a rollout started it): it is `published` from now on. */
  async markVersionPublished(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<void> {
    await manager.update(ConfigVersionEntity, { service, version }, { state: 'published' });
  }

  /** The highest version of a service ever published (or deployed by a rollout); 0 when none. */
  async highestPublishedVersion(manager: EntityManager, service: string): Promise<number> {
    const row = await manager
      .createQueryBuilder(ConfigVersionEntity, 'v')
      .select('MAX(v.version)', 'highest')
      // Published rows hold null (or, written before issue 18, the word): see ConfigVersionEntity.
      .where("v.service = :service AND (v.state IS NULL OR v.state = 'published')", { service })
      .getRawOne<{ highest: number | string | null }>();
    return Number(row?.highest ?? 0);
  }
}

function toStoredSchema(row: ServiceSchemaEntity): StoredSchema {
  return {
    service: row.service,
    schemaVersion: row.schemaVersion,
    schemaHash: row.schemaHash,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    reason: row.reason,
    document: JSON.parse(row.document) as Record<string, unknown>,
  };
}
