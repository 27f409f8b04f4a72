import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EntityManager, IsNull, Not } from 'typeorm';
import { CryptoError, MasterKeyRing, constantTimeEqual } from '@app/crypto';
import { DomainError, ErrorCode } from '../common/domain-error';
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
  Pick<StagedSecretEntity, 'path' | 'version' | 'keyId' | 'ciphertext' | 'aadVersion'>
>;

/** What opening a ciphertext needs: where it belongs (service, path, version) and the key that sealed it. */
type StoredCiphertext = Pick<
  SecretEntity,
  'service' | 'path' | 'keyId' | 'ciphertext' | 'aadVersion'
>;

/** Result of re-encrypting secrets under the current master key. */
export interface RotationResult {
  total: number;
  reencrypted: number;
  keyId: string;
}

/**
 * Secrets at rest: AES-256-GCM under the master key ring, bound to service, path and the
 * version that wrote them as additional authenticated data (docs/recovery.md), with the key id
 * and that version stored beside each blob: a ciphertext copied from another row or an older
 * version does not open as the current value (SECRET_UNREADABLE, never a plaintext). Values
 * only leave this class decrypted for comparison and for sealing to a worker.
 *
 * Rows written before versions were bound (`aad_version` null) are re-encrypted with their
 * binding once, at start (bindVersions, from verifyKeys) or by secrets:rotate; until then they
 * do not open.
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
      aadVersion: row.aadVersion,
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
        aadVersion: s.aadVersion ?? null,
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
        const { path, keyId, ciphertext, aadVersion } = write;
        // A staged write opens only as its own version's.
        const bound = aadVersion === write.version ? aadVersion : -1;
        values.set(
          path,
          this.open({ service, path, keyId, ciphertext, aadVersion: bound }).toString('utf8'),
        );
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
      if (existing && this.holds(existing, value)) continue;
      changes.push({ path, action: 'set', value });
    }
    return changes;
  }

  /** Writes planned changes of `version` inside the caller's transaction (bound to that version). */
  async apply(
    manager: EntityManager,
    service: string,
    changes: readonly SecretChange[],
    actor: string,
    at: string,
    version: number,
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
        aad(service, change.path, version),
      );
      const row = Object.assign(new SecretEntity(), {
        service,
        path: change.path,
        keyId,
        ciphertext,
        aadVersion: version,
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
          ? this.ring.encrypt(Buffer.from(change.value, 'utf8'), aad(service, change.path, version))
          : { keyId: null, ciphertext: null };
      await manager.insert(StagedSecretEntity, {
        service,
        version,
        path: change.path,
        keyId: sealed.keyId,
        ciphertext: sealed.ciphertext,
        aadVersion: change.action === 'set' ? version : null,
        updatedAt: at,
        updatedBy: actor,
      });
    }
  }

  /** The secret writes of a staged version (none for a config-only one). */
  staged(manager: EntityManager, service: string, version: number): Promise<StagedSecrets> {
    return manager.find(StagedSecretEntity, {
      select: { path: true, version: true, keyId: true, ciphertext: true, aadVersion: true },
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
      // The ciphertext stays bound to the staged version that wrote it.
      const row = Object.assign(new SecretEntity(), {
        service,
        path: write.path,
        keyId: write.keyId,
        ciphertext: write.ciphertext,
        aadVersion: write.aadVersion,
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
        if (row.keyId === this.ring.current.id && row.aadVersion !== null) continue;
        const bound = row.aadVersion ?? LEGACY_BOUND_VERSION;
        const { keyId, ciphertext } = this.ring.encrypt(
          this.openForRewrite(row),
          aad(row.service, row.path, bound),
        );
        await manager.update(
          SecretEntity,
          { service: row.service, path: row.path },
          { keyId, ciphertext, aadVersion: bound },
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
      if (row.keyId === null || row.ciphertext === null) continue;
      if (row.keyId === this.ring.current.id && row.aadVersion === row.version) continue;
      const stored = { ...row, keyId: row.keyId, ciphertext: row.ciphertext };
      const { keyId, ciphertext } = this.ring.encrypt(
        this.openForRewrite(
          row.aadVersion === null ? stored : { ...stored, aadVersion: row.version },
        ),
        aad(row.service, row.path, row.version),
      );
      await manager.update(
        StagedSecretEntity,
        { service: row.service, version: row.version, path: row.path },
        { keyId, ciphertext, aadVersion: row.version },
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
    await this.bindVersions();
    const stale = [...this.rows.values()]
      .flatMap((paths) => [...paths.values()])
      .filter((r) => r.keyId !== this.ring.current.id).length;
    if (stale > 0) {
      this.logger.warn(
        `${stale} secret(s) are still encrypted with a previous master key: run npm run secrets:rotate.`,
      );
    }
  }

  /**
   * Re-encrypts, once, every row written before versions were bound (`aad_version` null) with
   * its binding: a current secret with LEGACY_BOUND_VERSION, a staged write with its version.
   * Under the current master key, in one transaction; the in-memory copy is re-read after.
   */
  private async bindVersions(): Promise<void> {
    const [current, staged] = await this.db.read(async (m) => [
      await m.countBy(SecretEntity, { aadVersion: IsNull() }),
      await m.count(StagedSecretEntity, {
        where: { aadVersion: IsNull(), ciphertext: Not(IsNull()) },
      }),
    ]);
    if (current + staged === 0) return;
    const unopened: string[] = [];
    await this.db.transaction(async (manager) => {
      for (const row of await manager.findBy(SecretEntity, { aadVersion: IsNull() })) {
        const plaintext = this.tryLegacy(row);
        if (!plaintext) {
          unopened.push(`${row.service} ${row.path}`);
          continue;
        }
        const { keyId, ciphertext } = this.ring.encrypt(
          plaintext,
          aad(row.service, row.path, LEGACY_BOUND_VERSION),
        );
        await manager.update(
          SecretEntity,
          { service: row.service, path: row.path },
          { keyId, ciphertext, aadVersion: LEGACY_BOUND_VERSION },
        );
      }
      const legacyStaged = await manager.find(StagedSecretEntity, {
        where: { aadVersion: IsNull(), ciphertext: Not(IsNull()) },
      });
      for (const row of legacyStaged) {
        const plaintext =
          row.keyId === null || row.ciphertext === null
            ? undefined
            : this.tryLegacy({ ...row, keyId: row.keyId, ciphertext: row.ciphertext });
        if (!plaintext) {
          unopened.push(`${row.service} ${row.path} (staged v${row.version})`);
          continue;
        }
        const { keyId, ciphertext } = this.ring.encrypt(
          plaintext,
          aad(row.service, row.path, row.version),
        );
        await manager.update(
          StagedSecretEntity,
          { service: row.service, version: row.version, path: row.path },
          { keyId, ciphertext, aadVersion: row.version },
        );
      }
    });
    if (unopened.length > 0) {
      // Not a reason to refuse to start: these rows stay unbound, are never sent, and a write heals them.
      this.logger.error(
        `Could not open ${unopened.length} stored secret(s) to bind them to their version: ${unopened.join(', ')}. ` +
          'They are not sent; set them again.',
      );
    }
    await this.loadAll();
    this.logger.log(
      `Bound ${current + staged - unopened.length} secret(s) written before this release to their version (re-encrypted).`,
    );
  }

  private remember(service: string, update: SecretCacheUpdate): void {
    const paths = this.rows.get(service) ?? new Map<string, SecretEntity>();
    if (update.row) paths.set(update.path, update.row);
    else paths.delete(update.path);
    this.rows.set(service, paths);
  }

  /** Whether a stored secret holds `value`; one that does not open holds nothing (a write heals it). */
  private holds(row: StoredCiphertext, value: string): boolean {
    try {
      return constantTimeEqual(this.open(row), Buffer.from(value, 'utf8'));
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.SecretUnreadable) return false;
      throw error;
    }
  }

  /** Opens a ciphertext bound to its row's service, path and version; SECRET_UNREADABLE otherwise. */
  private open(row: StoredCiphertext): Buffer {
    if (row.aadVersion === null) {
      throw unreadable(
        row,
        'it was written before versions were bound; restart the manager (it binds them) or run npm run secrets:rotate',
      );
    }
    try {
      return this.ring.decrypt(
        row.keyId,
        row.ciphertext,
        aad(row.service, row.path, row.aadVersion),
      );
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      throw unreadable(
        row,
        'its ciphertext was not written for this service, path and version (copied from another row or an older version, or altered)',
      );
    }
  }

  /** A row written before binding, opened with the service and path only; undefined if it does not open. */
  private tryLegacy(row: StoredCiphertext): Buffer | undefined {
    try {
      return this.ring.decrypt(row.keyId, row.ciphertext, legacyAad(row.service, row.path));
    } catch (error) {
      if (error instanceof CryptoError) return undefined;
      throw error;
    }
  }

  /** Opens a row to re-encrypt it: bound, or (written before binding) with the service and path only. */
  private openForRewrite(row: StoredCiphertext): Buffer {
    if (row.aadVersion !== null) return this.open(row);
    return this.ring.decrypt(row.keyId, row.ciphertext, legacyAad(row.service, row.path));
  }
}

/** The version bound to a current secret written before versions were bound. */
const LEGACY_BOUND_VERSION = 0;

/** The additional data of a secret ciphertext: service, path and the version that wrote it. */
function aad(service: string, path: string, version: number): Buffer {
  return Buffer.from(`${service}\0${path}\0v${version}`, 'utf8');
}

/** The additional data before versions were bound (read only to re-encrypt). */
function legacyAad(service: string, path: string): Buffer {
  return Buffer.from(`${service}\0${path}`, 'utf8');
}

function unreadable(row: Pick<SecretEntity, 'service' | 'path'>, why: string): DomainError {
  return new DomainError(
    ErrorCode.SecretUnreadable,
    `The stored secret ${row.path} of ${row.service} does not open as its current value: ${why}. ` +
      `Nothing containing it was sent; set it again (PUT /api/services/${row.service}/secrets/${row.path}) or clear it.`,
  );
}
