import { Injectable } from '@nestjs/common';
import { type ChangeEntry, type SecretState, diffConfigs } from '@app/contracts';
import { EntityManager, LessThan } from 'typeorm';
import type { Snapshot } from '../configs/config-state';
import type { StoredVersion } from '../configs/config-repository';
import {
  ConfigVersionEntity,
  KIND_COLUMN,
  STATE_COLUMN,
} from '../configs/entities/config-version.entity';
import { ServiceSchemaEntity } from '../configs/entities/service-schema.entity';
import {
  MAX_DELTA_DEPTH,
  type SnapshotBase,
  encodeSnapshotDelta,
  encodeSnapshotJson,
  needsDictionary,
  snapshotBase,
  snapshotBytes,
  snapshotJson,
} from '../configs/snapshot-codec';
import { DatabaseService } from './database.service';
import { runSql } from './sql';

/** A version row as written by this transaction: what its audit row may leave out. */
interface InsertedVersion {
  kind: string;
  createdAt: string;
  createdBy: string;
  reason: string | null;
  json: Buffer;
}

/** Who wrote a version, when and why (its row's columns). */
export interface VersionFacts {
  kind: string;
  createdAt: string;
  createdBy: string;
  reason: string | null;
}

// The write path's INSERT, a constant statement (sql.ts): the query builder's re-read each row's defaults.
const INSERT_VERSION =
  'INSERT INTO {config_versions} (service, version, kind, state, created_at, created_by, reason, ' +
  'schema_version, schema_hash, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * The rows of `config_versions`, compact (issue 18: history <= 200 bytes per version with its
 * audit row, on SQLite):
 * - the snapshot of a version is deflated against the JSON of the newest version this manager
 *   knows committed (usually the one before; encoding 3 of snapshot-codec.ts, chains of at most
 *   MAX_DELTA_DEPTH), or against the first version when there is none;
 * - the schema a version was validated under is its schema_version in `service_schemas` (the
 *   hash itself only when no schema row has it).
 * Its caches hold committed rows only (filled after the transaction that wrote or read them
 * commits), so a rolled-back write never becomes the base of a later version. The audit log
 * asks it what an audit row may leave out because the version row has it (AuditService).
 */
@Injectable()
export class VersionStore {
  /** The first version's JSON bytes per service: the dictionary of encoding 2. */
  private readonly dictionaries = new Map<string, Buffer>();
  /** The newest committed version known per service: the base of its next version. */
  private readonly latest = new Map<string, SnapshotBase>();
  /** service -> schema_version -> schema_hash of `service_schemas` (immutable rows). */
  private readonly hashes = new Map<string, Map<number, string>>();
  /** Versions inserted by each open transaction, by `service\0version`. */
  private readonly inserted = new WeakMap<EntityManager, Map<string, InsertedVersion>>();

  constructor(private readonly db: DatabaseService) {}

  /** Inserts an immutable version row (inside the caller's transaction). */
  async insert(manager: EntityManager, version: StoredVersion): Promise<void> {
    const { service } = version;
    const json = snapshotJson({ config: version.config, secrets: version.secrets });
    const base = this.latest.get(service);
    let snapshot: Buffer;
    if (version.version === 1) snapshot = encodeSnapshotJson(json);
    else if (base && base.version < version.version && base.depth < MAX_DELTA_DEPTH) {
      snapshot = encodeSnapshotDelta(json, base);
    } else snapshot = encodeSnapshotJson(json, await this.dictionary(manager, service));
    const schemaVersion =
      version.schemaHash === null
        ? null
        : await this.schemaVersionOf(manager, service, version.schemaHash);
    await runSql(manager, INSERT_VERSION, [
      service,
      version.version,
      KIND_COLUMN.to(version.kind),
      STATE_COLUMN.to(version.state),
      version.createdAt,
      version.createdBy,
      version.reason,
      schemaVersion,
      schemaVersion === null ? version.schemaHash : null,
      snapshot,
    ]);
    let written = this.inserted.get(manager);
    if (!written) this.inserted.set(manager, (written = new Map<string, InsertedVersion>()));
    written.set(key(service, version.version), {
      kind: version.kind,
      createdAt: version.createdAt,
      createdBy: version.createdBy,
      reason: version.reason,
      json,
    });
    const depth = snapshotBase(snapshot)?.depth ?? 0;
    this.db.afterCommit(manager, () =>
      this.remember(service, { version: version.version, json, depth }),
    );
  }

  /** One version with its decoded content, or undefined. */
  async find(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<StoredVersion | undefined> {
    const row = await manager.findOneBy(ConfigVersionEntity, { service, version });
    if (!row) return undefined;
    const json = await this.jsonOfRow(manager, service, version, row.snapshot);
    const depth = snapshotBase(row.snapshot)?.depth ?? 0;
    this.db.afterCommit(manager, () => this.remember(service, { version, json, depth }));
    const { config, secrets } = JSON.parse(json.toString('utf8')) as Snapshot;
    return {
      service,
      version,
      kind: row.kind,
      state: row.state,
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      reason: row.reason,
      schemaHash: await this.schemaHashOf(manager, service, row),
      config,
      secrets,
    };
  }

  /** Who wrote a version, when and why; undefined when the store has no such version. */
  async facts(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<VersionFacts | undefined> {
    const row = await manager.findOne(ConfigVersionEntity, {
      select: { kind: true, createdAt: true, createdBy: true, reason: true },
      where: { service, version },
    });
    return row
      ? { kind: row.kind, createdAt: row.createdAt, createdBy: row.createdBy, reason: row.reason }
      : undefined;
  }

  /** The changes from one version to another, as the audit log records them (see deriveChanges). */
  async changesBetween(
    manager: EntityManager,
    service: string,
    from: number,
    to: number,
  ): Promise<ChangeEntry[]> {
    return deriveChanges(
      await this.jsonAt(manager, service, from),
      await this.jsonAt(manager, service, to),
    );
  }

  /**
   * What the audit row of a change may leave out because the version it made has it: its time,
   * actor and reason (`facts`) when they are the version's, its kind when it is the version's
   * (not for staged writes: `staged-…`), and its changes when they are
   * exactly what changesBetween gives from `versionBefore` to `versionAfter` (checked here, on
   * the bytes stored, so a derived list is always the one recorded). Only for a version this
   * transaction inserted.
   */
  async auditShortcuts(
    manager: EntityManager,
    entry: {
      service: string;
      kind: string;
      at: string;
      actor: string;
      reason: string | null;
      versionBefore: number | null;
      versionAfter: number | null;
      changes: ChangeEntry[];
    },
  ): Promise<{ facts: boolean; kind: boolean; changes: boolean }> {
    const written = this.inserted.get(manager);
    const after =
      entry.versionAfter === null
        ? undefined
        : written?.get(key(entry.service, entry.versionAfter));
    if (!after) return { facts: false, kind: false, changes: false };
    const facts =
      after.createdAt === entry.at &&
      after.createdBy === entry.actor &&
      after.reason === entry.reason;
    const kind = after.kind === entry.kind;
    if (entry.versionBefore === null || entry.changes.length === 0) {
      return { facts, kind, changes: false };
    }
    const before =
      written?.get(key(entry.service, entry.versionBefore))?.json ??
      (await this.jsonAt(manager, entry.service, entry.versionBefore));
    const derived = deriveChanges(before, after.json);
    return { facts, kind, changes: JSON.stringify(derived) === JSON.stringify(entry.changes) };
  }

  /** The stored JSON bytes of one version (its chain of bases decoded). */
  private async jsonAt(manager: EntityManager, service: string, version: number): Promise<Buffer> {
    const latest = this.latest.get(service);
    if (latest?.version === version) return latest.json;
    const row = await manager.findOne(ConfigVersionEntity, {
      select: { snapshot: true },
      where: { service, version },
    });
    if (!row) throw new Error(`${service} has no version ${version}`);
    return this.jsonOfRow(manager, service, version, row.snapshot);
  }

  /**
   * The JSON bytes of the row of `version`: its chain of bases (read in one query of the rows
   * just below it, where a chain nearly always is) inflated from the bottom up, starting from the
   * newest committed version known when the chain reaches it.
   */
  private async jsonOfRow(
    manager: EntityManager,
    service: string,
    version: number,
    blob: Buffer,
  ): Promise<Buffer> {
    const chain = [blob];
    let start: Buffer | undefined;
    let below: Map<number, Buffer> | undefined;
    for (let base = snapshotBase(blob); base; base = snapshotBase(chain[chain.length - 1])) {
      const latest = this.latest.get(service);
      if (latest?.version === base.version) {
        start = latest.json;
        break;
      }
      below ??= await this.rowsBelow(manager, service, version);
      const row =
        below.get(base.version) ?? (await this.snapshotOf(manager, service, base.version));
      chain.push(row);
    }
    let next = chain.length - 1;
    let json = start;
    if (json === undefined) {
      const bottom = chain[next--];
      // Loaded before inflating: inflating is synchronous, the dictionary may need a query.
      const dictionary = needsDictionary(bottom)
        ? await this.dictionary(manager, service)
        : Buffer.alloc(0);
      json = snapshotBytes(bottom, () => dictionary);
    }
    for (; next >= 0; next--) {
      const base: Buffer = json;
      json = snapshotBytes(chain[next], () => base);
    }
    return json;
  }

  /** The snapshots of the MAX_DELTA_DEPTH rows below `version`, by version. */
  private async rowsBelow(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<Map<number, Buffer>> {
    const rows = await manager.find(ConfigVersionEntity, {
      select: { version: true, snapshot: true },
      where: { service, version: LessThan(version) },
      order: { version: 'DESC' },
      take: MAX_DELTA_DEPTH,
    });
    return new Map(rows.map((row) => [row.version, row.snapshot]));
  }

  private async snapshotOf(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<Buffer> {
    const row = await manager.findOne(ConfigVersionEntity, {
      select: { snapshot: true },
      where: { service, version },
    });
    if (!row) throw new Error(`${service} has no version ${version}`);
    return row.snapshot;
  }

  private async dictionary(manager: EntityManager, service: string): Promise<Buffer> {
    const cached = this.dictionaries.get(service);
    if (cached) return cached;
    const first = await manager.findOne(ConfigVersionEntity, {
      select: { snapshot: true },
      where: { service, version: 1 },
    });
    if (!first) throw new Error(`service ${service} has no first version`);
    const bytes = snapshotBytes(first.snapshot, () => Buffer.alloc(0));
    this.db.afterCommit(manager, () => this.dictionaries.set(service, bytes));
    return bytes;
  }

  private remember(service: string, base: SnapshotBase): void {
    const known = this.latest.get(service);
    if (!known || base.version > known.version) this.latest.set(service, base);
  }

  /** The newest schema version of `service` with this hash, or null when none has it. */
  private async schemaVersionOf(
    manager: EntityManager,
    service: string,
    hash: string,
  ): Promise<number | null> {
    let found: number | null = null;
    for (const [version, known] of this.hashes.get(service) ?? []) {
      if (known === hash && (found === null || version > found)) found = version;
    }
    if (found !== null) return found;
    const row = await manager.findOne(ServiceSchemaEntity, {
      select: { schemaVersion: true },
      where: { service, schemaHash: hash },
      order: { schemaVersion: 'DESC' },
    });
    if (!row) return null;
    this.db.afterCommit(manager, () => this.rememberHash(service, row.schemaVersion, hash));
    return row.schemaVersion;
  }

  private async schemaHashOf(
    manager: EntityManager,
    service: string,
    row: Pick<ConfigVersionEntity, 'schemaHash' | 'schemaVersion' | 'version'>,
  ): Promise<string | null> {
    if (row.schemaHash !== null || row.schemaVersion === null) return row.schemaHash;
    const schemaVersion = row.schemaVersion;
    const cached = this.hashes.get(service)?.get(schemaVersion);
    if (cached !== undefined) return cached;
    const schema = await manager.findOne(ServiceSchemaEntity, {
      select: { schemaHash: true },
      where: { service, schemaVersion },
    });
    if (!schema) {
      throw new Error(
        `${service} version ${row.version} names schema version ${schemaVersion}, which the store does not have`,
      );
    }
    this.db.afterCommit(manager, () =>
      this.rememberHash(service, schemaVersion, schema.schemaHash),
    );
    return schema.schemaHash;
  }

  private rememberHash(service: string, schemaVersion: number, hash: string): void {
    let known = this.hashes.get(service);
    if (!known) this.hashes.set(service, (known = new Map<number, string>()));
    known.set(schemaVersion, hash);
  }
}

function key(service: string, version: number): string {
  return `${service}\0${version}`;
}

/**
 * The changes from the version stored as `from` to the one stored as `to` (their JSON bytes), as
 * a write records them: the changed config paths (diffConfigs), then each secret whose state
 * differs, in the order of the later version's secrets.
 */
export function deriveChanges(from: Buffer, to: Buffer): ChangeEntry[] {
  const a = JSON.parse(from.toString('utf8')) as Snapshot;
  const b = JSON.parse(to.toString('utf8')) as Snapshot;
  const paths = [...new Set([...Object.keys(b.secrets), ...Object.keys(a.secrets)])];
  const differs = (x: SecretState | undefined, y: SecretState | undefined) =>
    x?.set !== y?.set || x?.updatedAt !== y?.updatedAt;
  return [
    ...diffConfigs(a.config, b.config),
    ...paths
      .filter((path) => differs(a.secrets[path], b.secrets[path]))
      .map((path) => ({ path, changed: true as const })),
  ];
}
