import { Injectable } from '@nestjs/common';
import type { VersionSummary } from '@app/contracts';
import { EntityManager, LessThan } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { ConfigCacheService } from './config-cache.service';
import type { ConfigState, Snapshot } from './config-state';
import { ConfigVersionEntity, VersionKind } from './entities/config-version.entity';
import { ServiceEntity } from './entities/service.entity';
import { decodeSnapshot, encodeSnapshot, snapshotBytes } from './snapshot-codec';

/** A stored version with its decoded content. */
export interface StoredVersion extends Snapshot {
  service: string;
  version: number;
  kind: VersionKind;
  createdAt: string;
  createdBy: string;
  reason: string | null;
}

export type { VersionSummary } from '@app/contracts';

/** Reads and writes version rows, hiding the snapshot encoding. */
@Injectable()
export class ConfigStoreService {
  constructor(
    private readonly db: DatabaseService,
    private readonly cache: ConfigCacheService,
  ) {}

  /** The committed current state of a service, straight from the database. */
  async loadCurrent(manager: EntityManager, service: string): Promise<ConfigState | undefined> {
    const row = await manager.findOneBy(ServiceEntity, { name: service });
    if (!row) return undefined;
    const cached = this.cache.get(service);
    if (cached && cached.version === row.currentVersion) return cached;
    const version = await this.findVersion(manager, service, row.currentVersion);
    if (!version)
      throw new Error(`service ${service} points at missing version ${row.currentVersion}`);
    return {
      service,
      version: row.currentVersion,
      kind: version.kind,
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
      config: version.config,
      secrets: version.secrets,
    };
  }

  async getVersion(service: string, version: number): Promise<StoredVersion> {
    const found = await this.db.read((m) => this.findVersion(m, service, version));
    if (!found) {
      throw new DomainError(ErrorCode.UnknownVersion, `${service} has no version ${version}`);
    }
    return found;
  }

  async listVersions(service: string, limit: number, before?: number): Promise<VersionSummary[]> {
    return this.db.read((m) =>
      m.find(ConfigVersionEntity, {
        select: { version: true, createdAt: true, createdBy: true, reason: true, kind: true },
        where: { service, ...(before ? { version: LessThan(before) } : {}) },
        order: { version: 'DESC' },
        take: limit,
      }),
    );
  }

  /** Inserts an immutable version row (inside the caller's transaction). */
  async insertVersion(manager: EntityManager, version: StoredVersion): Promise<void> {
    const snapshot: Snapshot = { config: version.config, secrets: version.secrets };
    const dictionary =
      version.version === 1 ? undefined : await this.dictionary(manager, version.service);
    await manager.insert(ConfigVersionEntity, {
      service: version.service,
      version: version.version,
      kind: version.kind,
      createdAt: version.createdAt,
      createdBy: version.createdBy,
      reason: version.reason,
      snapshot: encodeSnapshot(snapshot, dictionary),
    });
  }

  private async findVersion(
    manager: EntityManager,
    service: string,
    version: number,
  ): Promise<StoredVersion | undefined> {
    const row = await manager.findOneBy(ConfigVersionEntity, { service, version });
    if (!row) return undefined;
    // The dictionary is only needed for rows encoded with it; load it before decoding.
    const dictionary =
      row.snapshot[0] === 1 ? Buffer.alloc(0) : await this.dictionary(manager, service);
    const { config, secrets } = decodeSnapshot(row.snapshot, () => dictionary);
    return {
      service,
      version,
      kind: row.kind,
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      reason: row.reason,
      config,
      secrets,
    };
  }

  /** The first version's JSON bytes: the compression dictionary of every later version. */
  private async dictionary(manager: EntityManager, service: string): Promise<Buffer> {
    const cached = this.cache.dictionary(service);
    if (cached) return cached;
    const first = await manager.findOneBy(ConfigVersionEntity, { service, version: 1 });
    if (!first) throw new Error(`service ${service} has no first version`);
    const bytes = snapshotBytes(first.snapshot, () => Buffer.alloc(0));
    this.cache.setDictionary(service, bytes);
    return bytes;
  }
}
