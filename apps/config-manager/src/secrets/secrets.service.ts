import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MasterKeyRing, constantTimeEqual } from '@app/crypto';
import { DatabaseService } from '../database/database.service';
import type { SnapshotSecret } from '../snapshot/snapshot';
import { SnapshotFile } from '../snapshot/snapshot-file';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { SecretEntity } from './secret.entity';
import { StagedSecretEntity } from './staged-secret.entity';

/** A secret write that changes something: a new value, or clearing a set secret. */
export type SecretChange =
  { path: string; action: 'set'; value: string } | { path: string; action: 'clear' };

/** A committed secret write, to apply to the in-memory copy after its transaction commits. */
export type SecretCacheUpdate = { path: string; row: SecretEntity | null };

/** The secret writes of one staged version, as stored (ciphertexts; null: cleared). */
export type StagedSecrets = ReadonlyArray<
  Pick<StagedSecretEntity, 'path' | 'keyId' | 'ciphertext'>
>;

/** Result of re-encrypting secrets under the current master key. */
export interface RotationResult {
  total: number;
  reencrypted: number;
  keyId: string;
}

/**
 * Secrets at rest: AES-256-GCM under the master key ring, bound to service and path as
 * additional authenticated data, with the key id stored beside each blob. Values only leave
 * this class decrypted for comparison (and, later, for sealing to a worker).
 */
@Injectable()
export class SecretsService implements OnModuleInit {
  private readonly logger = new Logger(SecretsService.name);
  private readonly ring: MasterKeyRing;
  // Rows by service and path (ciphertexts, never plaintext), so envelopes can be built while the
  // database is unavailable.
  private readonly rows = new Map<string, Map<string, SecretEntity>>();

  constructor(
    @Inject(SETTINGS) settings: Settings,
    private readonly db: DatabaseService,
    private readonly snapshot: SnapshotFile,
  ) {
    this.ring = new MasterKeyRing(settings.masterKey, settings.previousMasterKeys);
  }

  async onModuleInit(): Promise<void> {
    // Cold start: the snapshot's ciphertexts until the store returns (then the store's replace them).
    if (this.db.isColdStart()) {
      for (const service of this.snapshot.initial()?.services ?? []) {
        this.loadSnapshotRows(service.name, service.secrets);
      }
    }
    await this.db.whenConnected('load the secrets', () => this.loadAll());
  }

  /** One service's secrets as stored (ciphertexts, never plaintext), for the snapshot. */
  storedRows(service: string): SnapshotSecret[] {
    return [...(this.rows.get(service)?.values() ?? [])].map((row) => ({
      path: row.path,
      keyId: row.keyId,
      ciphertext: row.ciphertext.toString('base64'),
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
    }));
  }

  private loadSnapshotRows(service: string, secrets: readonly SnapshotSecret[]): void {
    const rows = secrets.map((s) =>
      Object.assign(new SecretEntity(), {
        service,
        path: s.path,
        keyId: s.keyId,
        ciphertext: Buffer.from(s.ciphertext, 'base64'),
        updatedAt: s.updatedAt,
        updatedBy: s.updatedBy,
      }),
    );
    this.rows.set(service, new Map(rows.map((r) => [r.path, r])));
  }

  private async loadAll(): Promise<void> {
    const rows = await this.db.read((m) => m.find(SecretEntity));
    this.rows.clear();
    for (const row of rows) this.remember(row.service, { path: row.path, row });
  }

  /** Re-reads one service's secrets from the database (after another replica changed them). */
  async reload(service: string): Promise<void> {
    const rows = await this.db.read((m) => m.find(SecretEntity, { where: { service } }));
    this.rows.set(service, new Map(rows.map((r) => [r.path, r])));
  }

  /** Applies committed writes to the in-memory copy. */
  commitToCache(service: string, updates: readonly SecretCacheUpdate[]): void {
    for (const update of updates) this.remember(service, update);
  }

  /**
   * The current plaintext of every set secret of a service, for sealing into an envelope, with
   * a staged version's writes over it when given (a rollout's candidate). The values live only
   * as long as the caller holds them.
   */
  reveal(service: string, staged: StagedSecrets = []): Map<string, string> {
    const values = new Map<string, string>();
    for (const [path, row] of this.rows.get(service) ?? []) {
      values.set(path, this.open(row).toString('utf8'));
    }
    for (const write of staged) {
      if (write.keyId === null || write.ciphertext === null) values.delete(write.path);
      else {
        const { path, keyId, ciphertext } = write;
        values.set(path, this.open({ service, path, keyId, ciphertext }).toString('utf8'));
      }
    }
    return values;
  }

  /** Keeps only the requested writes that change something; '' means clear. */
  async plan(
    manager: EntityManager,
    service: string,
    requested: Readonly<Record<string, string>>,
  ): Promise<SecretChange[]> {
    const changes: SecretChange[] = [];
    for (const [path, value] of Object.entries(requested)) {
      const existing = await manager.findOneBy(SecretEntity, { service, path });
      if (value === '') {
        if (existing) changes.push({ path, action: 'clear' });
        continue;
      }
      if (existing && constantTimeEqual(this.open(existing), Buffer.from(value, 'utf8'))) continue;
      changes.push({ path, action: 'set', value });
    }
    return changes;
  }

  /** Writes planned changes inside the caller's transaction. */
  async apply(
    manager: EntityManager,
    service: string,
    changes: readonly SecretChange[],
    actor: string,
    at: string,
  ): Promise<SecretCacheUpdate[]> {
    const updates: SecretCacheUpdate[] = [];
    for (const change of changes) {
      if (change.action === 'clear') {
        await manager.delete(SecretEntity, { service, path: change.path });
        updates.push({ path: change.path, row: null });
        continue;
      }
      const { keyId, ciphertext } = this.ring.encrypt(
        Buffer.from(change.value, 'utf8'),
        aad(service, change.path),
      );
      const row = Object.assign(new SecretEntity(), {
        service,
        path: change.path,
        keyId,
        ciphertext,
        updatedAt: at,
        updatedBy: actor,
      });
      await manager.upsert(SecretEntity, row, ['service', 'path']);
      updates.push({ path: change.path, row });
    }
    return updates;
  }

  /**
   * Keeps the planned writes of a staged version apart from the current secrets (inside the
   * caller's transaction), encrypted like them; a rollout completing the version applies them.
   */
  async stage(
    manager: EntityManager,
    service: string,
    version: number,
    changes: readonly SecretChange[],
    actor: string,
    at: string,
  ): Promise<void> {
    for (const change of changes) {
      const sealed =
        change.action === 'set'
          ? this.ring.encrypt(Buffer.from(change.value, 'utf8'), aad(service, change.path))
          : { keyId: null, ciphertext: null };
      await manager.insert(StagedSecretEntity, {
        service,
        version,
        path: change.path,
        keyId: sealed.keyId,
        ciphertext: sealed.ciphertext,
        updatedAt: at,
        updatedBy: actor,
      });
    }
  }

  /** The secret writes of a staged version (none for a config-only one). */
  staged(manager: EntityManager, service: string, version: number): Promise<StagedSecrets> {
    return manager.find(StagedSecretEntity, {
      select: { path: true, keyId: true, ciphertext: true },
      where: { service, version },
    });
  }

  /**
   * Makes a staged version's secret writes the current secrets (a rollout completed it), inside
   * the caller's transaction; the result goes to commitToCache once it commits.
   */
  async promote(
    manager: EntityManager,
    service: string,
    version: number,
    actor: string,
    at: string,
  ): Promise<SecretCacheUpdate[]> {
    const updates: SecretCacheUpdate[] = [];
    for (const write of await this.staged(manager, service, version)) {
      if (write.keyId === null || write.ciphertext === null) {
        await manager.delete(SecretEntity, { service, path: write.path });
        updates.push({ path: write.path, row: null });
        continue;
      }
      const row = Object.assign(new SecretEntity(), {
        service,
        path: write.path,
        keyId: write.keyId,
        ciphertext: write.ciphertext,
        updatedAt: at,
        updatedBy: actor,
      });
      await manager.upsert(SecretEntity, row, ['service', 'path']);
      updates.push({ path: write.path, row });
    }
    return updates;
  }

  /** Re-encrypts every secret not encrypted under the current master key, in one transaction. */
  async rotateAll(): Promise<RotationResult> {
    const result = await this.db.transaction(async (manager) => {
      const rows = await manager.find(SecretEntity);
      let reencrypted = 0;
      for (const row of rows) {
        if (row.keyId === this.ring.current.id) continue;
        const context = aad(row.service, row.path);
        const { keyId, ciphertext } = this.ring.encrypt(
          this.ring.decrypt(row.keyId, row.ciphertext, context),
          context,
        );
        await manager.update(
          SecretEntity,
          { service: row.service, path: row.path },
          { keyId, ciphertext },
        );
        reencrypted++;
      }
      reencrypted += await this.rotateStaged(manager);
      return { total: rows.length, reencrypted, keyId: this.ring.current.id };
    });
    await this.loadAll();
    return result;
  }

  /** Re-encrypts staged secret writes not under the current master key; how many it did. */
  private async rotateStaged(manager: EntityManager): Promise<number> {
    const rows = await manager.find(StagedSecretEntity);
    let reencrypted = 0;
    for (const row of rows) {
      if (row.keyId === null || row.ciphertext === null || row.keyId === this.ring.current.id) {
        continue;
      }
      const context = aad(row.service, row.path);
      const { keyId, ciphertext } = this.ring.encrypt(
        this.ring.decrypt(row.keyId, row.ciphertext, context),
        context,
      );
      await manager.update(
        StagedSecretEntity,
        { service: row.service, version: row.version, path: row.path },
        { keyId, ciphertext },
      );
      reencrypted++;
    }
    return reencrypted;
  }

  /**
   * Checks at start-up that every stored secret can be decrypted; one encrypted under a key that
   * is not configured is a start-up error, because it could never be delivered.
   */
  async verifyKeys(): Promise<void> {
    const rows = await this.db.read((m) => m.find(SecretEntity));
    const unknown = [...new Set(rows.filter((r) => !this.ring.has(r.keyId)).map((r) => r.keyId))];
    if (unknown.length > 0) {
      throw new Error(
        `Stored secrets are encrypted with master key id(s) ${unknown.join(', ')}, which neither ` +
          'CONFIG_MASTER_KEY nor CONFIG_MASTER_KEYS_PREVIOUS provides. Configure the old key in ' +
          'CONFIG_MASTER_KEYS_PREVIOUS, then run npm run secrets:rotate.',
      );
    }
    const stale = rows.filter((r) => r.keyId !== this.ring.current.id).length;
    if (stale > 0) {
      this.logger.warn(
        `${stale} secret(s) are still encrypted with a previous master key: run npm run secrets:rotate.`,
      );
    }
  }

  private remember(service: string, update: SecretCacheUpdate): void {
    const paths = this.rows.get(service) ?? new Map<string, SecretEntity>();
    if (update.row) paths.set(update.path, update.row);
    else paths.delete(update.path);
    this.rows.set(service, paths);
  }

  private open(row: Pick<SecretEntity, 'service' | 'path' | 'keyId' | 'ciphertext'>): Buffer {
    return this.ring.decrypt(row.keyId, row.ciphertext, aad(row.service, row.path));
  }
}

function aad(service: string, path: string): Buffer {
  return Buffer.from(`${service}\0${path}`, 'utf8');
}
