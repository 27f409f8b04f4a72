import { Injectable } from '@nestjs/common';
import {
  type ChangeEntry,
  type SecretState,
  type ServiceDefinition,
  type VersionSummary,
  SERVICE_NAME_PATTERN,
  diffConfigs,
} from '@app/contracts';
import { EntityManager } from 'typeorm';
import { DatabaseService } from '../database/database.service';
import { SecretsService } from '../secrets/secrets.service';
import { ConfigCacheService } from './config-cache.service';
import { ConfigRepository, type ServicePointer, type StoredVersion } from './config-repository';
import type { ConfigState } from './config-state';
import { ServiceCatalog } from './service-catalog';

/**
 * The read use cases: the current state of every service from memory (so reads keep answering
 * while the database is down), history, one version and diffs from the store, and re-reading a
 * service after another replica wrote it.
 */
@Injectable()
export class ConfigReadsService {
  constructor(
    private readonly db: DatabaseService,
    private readonly cache: ConfigCacheService,
    private readonly repository: ConfigRepository,
    private readonly secrets: SecretsService,
    private readonly catalog: ServiceCatalog,
  ) {}

  /** The current definition of a registered service (archived ones too), or 404. */
  definition(service: string): ServiceDefinition {
    return this.catalog.definition(service);
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

  /** History, newest first; during a cold start only the current version (from the snapshot). */
  async history(service: string, limit: number, before?: number): Promise<VersionSummary[]> {
    const name = this.definition(service).name;
    if (this.db.isColdStart()) {
      const current = this.current(name);
      return before === undefined || before > current.version ? [summaryOf(current)] : [];
    }
    return this.repository.listVersions(name, limit, before);
  }

  /** One version; during a cold start only the current one is known (others: 503). */
  async version(service: string, version: number): Promise<StoredVersion> {
    const name = this.definition(service).name;
    if (this.db.isColdStart() && this.cache.get(name)?.version === version) {
      return storedOf(this.current(name));
    }
    return this.repository.getVersion(name, version);
  }

  /** Changed paths between two versions; secrets show only that they changed. */
  async diff(service: string, from: number, to: number): Promise<ChangeEntry[]> {
    const name = this.definition(service).name;
    const [a, b] = await Promise.all([
      this.repository.getVersion(name, from),
      this.repository.getVersion(name, to),
    ]);
    return [...diffConfigs(a.config, b.config), ...diffSecrets(a.secrets, b.secrets)];
  }

  /**
   * The committed current state of a service, straight from the store (the cache when it is
   * that version); `pointer` is its row when the caller already read it in this transaction.
   */
  async loadCurrent(
    manager: EntityManager,
    service: string,
    pointer?: ServicePointer | null,
  ): Promise<ConfigState | undefined> {
    if (pointer === undefined) pointer = await this.repository.findService(manager, service);
    if (!pointer) return undefined;
    const cached = this.cache.get(service);
    if (cached && cached.version === pointer.currentVersion) return cached;
    const version = await this.repository.findVersion(manager, service, pointer.currentVersion);
    if (!version) {
      throw new Error(`service ${service} points at missing version ${pointer.currentVersion}`);
    }
    return {
      service,
      version: pointer.currentVersion,
      kind: version.kind,
      updatedAt: pointer.updatedAt,
      updatedBy: pointer.updatedBy,
      // Versions from before the registry were validated under the schema compiled in then.
      schemaHash: version.schemaHash ?? this.catalog.definition(service).schemaHash,
      config: version.config,
      secrets: version.secrets,
    };
  }

  /**
   * Looks a service this manager does not know up in the store: another replica may have
   * registered it (the bus tells too, but a request can be quicker). True when it is known now.
   */
  async discover(service: string): Promise<boolean> {
    if (this.catalog.find(service)) return true;
    if (!SERVICE_NAME_PATTERN.test(service) || !this.db.isAvailable()) return false;
    const exists = await this.db.read((m) => this.repository.findService(m, service));
    if (!exists) return false;
    await this.refresh(service);
    return this.catalog.find(service) !== undefined;
  }

  /** Re-reads a service's current state and secrets from the store (another replica wrote). */
  async refresh(service: string): Promise<ConfigState> {
    const state = await this.db.read(async (m) => {
      const pointer = await this.repository.findService(m, service);
      if (pointer) await this.catalog.sync(m, pointer);
      return this.loadCurrent(m, service);
    });
    if (!state) throw new Error(`service ${service} has no current version`);
    await this.secrets.reload(service);
    this.cache.set(state);
    return this.cache.get(service) ?? state;
  }
}

/** The history entry of a current state (a cold start knows no reason: the snapshot keeps none). */
function summaryOf(state: ConfigState): VersionSummary {
  return {
    version: state.version,
    createdAt: state.updatedAt,
    createdBy: state.updatedBy,
    reason: null,
    kind: state.kind,
    state: 'published',
  };
}

function storedOf(state: ConfigState): StoredVersion {
  return {
    ...summaryOf(state),
    service: state.service,
    schemaHash: state.schemaHash,
    config: state.config,
    secrets: state.secrets,
  };
}

function diffSecrets(
  a: Readonly<Record<string, SecretState>>,
  b: Readonly<Record<string, SecretState>>,
): ChangeEntry[] {
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return paths
    .filter((p) => a[p]?.set !== b[p]?.set || a[p]?.updatedAt !== b[p]?.updatedAt)
    .map((path) => ({ path, changed: true as const }));
}
