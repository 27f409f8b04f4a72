import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { type ServiceDefinition, serviceDefinitions } from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DatabaseService } from '../database/database.service';
import { SecretsService } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
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
  ) {}

  async onModuleInit(): Promise<void> {
    for (const definition of serviceDefinitions()) {
      this.catalog.registerCode(definition);
      await this.registerFromCode(definition);
    }
    for (const pointer of await this.repository.listServices()) {
      await this.db.read(async (m) => {
        if (!(await this.catalog.sync(m, pointer))) {
          this.logger.error(`${pointer.name} has no schema in the store; it is not served`);
          return;
        }
        const state = await this.reads.loadCurrent(m, pointer.name);
        if (state) this.cache.set(state);
      });
    }
    await this.secrets.verifyKeys();
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
