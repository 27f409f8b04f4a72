import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { type ServiceDefinition, schemaHashOf, serviceDefinitions } from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DatabaseService } from '../database/database.service';
import { SecretsService } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import type { SnapshotService } from '../snapshot/snapshot';
import { SnapshotFile } from '../snapshot/snapshot-file';
import { ConfigCacheService } from './config-cache.service';
import { ConfigReadsService } from './config-reads.service';
import { ConfigRepository } from './config-repository';
import { loadLayeredDefaults } from './defaults-loader';
import { ServiceCatalog } from './service-catalog';
import { ServiceRegistrar } from './service-registrar';

const SYSTEM_ACTOR = 'system';

/**
 * At start, before anything reads a config: registers the services compiled into the manager
 * (version 1 from the layered defaults for a new one; a changed class is a schema change under
 * the same evolution rule as the registration API), loads every service of the store into the
 * catalog and its current state into memory, and checks that every stored secret can be opened
 * with the configured master keys.
 *
 * On a cold start (the database unreachable, a snapshot in DATA_DIR) the catalog and the
 * current states come from the snapshot, and all of the above runs once the database connects.
 */
@Injectable()
export class ConfigSeeder implements OnModuleInit {
  private readonly logger = new Logger(ConfigSeeder.name);

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly db: DatabaseService,
    private readonly repository: ConfigRepository,
    private readonly reads: ConfigReadsService,
    private readonly cache: ConfigCacheService,
    private readonly secrets: SecretsService,
    private readonly catalog: ServiceCatalog,
    private readonly registrar: ServiceRegistrar,
    private readonly snapshot: SnapshotFile,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const definition of serviceDefinitions()) this.catalog.registerCode(definition);
    if (this.db.isColdStart()) this.loadSnapshot();
    await this.db.whenConnected('seed and load the services', () => this.seed());
  }

  private async seed(): Promise<void> {
    for (const definition of serviceDefinitions()) await this.registerFromCode(definition);
    for (const pointer of await this.repository.listServices()) {
      await this.db.read(async (m) => {
        if (!(await this.catalog.sync(m, pointer))) {
          this.logger.error(`${pointer.name} has no schema in the store; it is not served`);
          return;
        }
        const state = await this.reads.loadCurrent(m, pointer.name);
        if (state) this.cache.replace(state);
      });
    }
    await this.secrets.verifyKeys();
  }

  /** Cold start: the catalog and current states of the snapshot, until the store is back. */
  private loadSnapshot(): void {
    const body = this.snapshot.initial();
    if (!body) return;
    for (const service of body.services) {
      try {
        this.loadSnapshotService(service);
      } catch (error) {
        this.logger.error(
          `${service.name} in the snapshot cannot be served: ${(error as Error).message}`,
        );
      }
    }
    this.logger.warn(
      `Cold start: serving ${body.services.length} service(s) read-only from the snapshot written at ${body.writtenAt}.`,
    );
  }

  private loadSnapshotService(service: SnapshotService): void {
    this.catalog.set({
      definition: this.catalog.definitionOfSchema(
        service.name,
        service.description,
        service.jsonSchema,
        schemaHashOf(service.jsonSchema),
      ),
      schemaVersion: service.schemaVersion,
      origin: service.origin,
      description: service.description,
      ...(service.recipientKey
        ? { recipientKey: Buffer.from(service.recipientKey, 'base64') }
        : {}),
      archivedAt: service.archivedAt,
    });
    this.cache.set({
      service: service.name,
      version: service.version,
      kind: service.kind,
      updatedAt: service.updatedAt,
      updatedBy: service.updatedBy,
      schemaHash: service.schemaHash,
      config: service.config,
      secrets: service.secretStates,
    });
  }

  private async registerFromCode(definition: ServiceDefinition): Promise<void> {
    const defaults = loadLayeredDefaults(
      definition,
      this.settings.defaultsDir,
      this.settings.appEnv,
    );
    try {
      const outcome = await this.db.transaction((manager) =>
        this.registrar.register(manager, {
          definition,
          origin: 'code',
          description: definition.description,
          actor: SYSTEM_ACTOR,
          reason: null,
          initialReason: `initial defaults from ${defaults.sources.join(' + ')}`,
          initialConfig: defaults.config,
        }),
      );
      this.catalog.set(outcome.entry);
      if (outcome.schemaChanged && !outcome.created) {
        this.logger.log(
          `${definition.name}: its schema from code is schema version ${outcome.entry.schemaVersion}` +
            (outcome.versionCreated ? `, config migrated as version ${outcome.state.version}` : ''),
        );
      }
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.SchemaConflict) {
        // The stored schema stays in force (the catalog loads it below) until the config fits.
        this.logger.error(
          `${definition.name}: the schema compiled into this manager does not fit its current config, ` +
            `so the stored schema stays in force: ${error.message}. ` +
            'Change the config so that it fits both schemas, then restart.',
        );
        return;
      }
      // Another replica may have registered it first; anything else is a real failure.
      const exists = await this.db.read((m) => this.repository.findService(m, definition.name));
      if (!exists || exists.schemaVersion === 0) throw error;
    }
  }
}
