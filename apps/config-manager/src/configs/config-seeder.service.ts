import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { type ServiceDefinition, serviceDefinitions } from '@app/contracts';
import { AuditService } from '../audit/audit.service';
import { DatabaseService } from '../database/database.service';
import { SecretsService } from '../secrets/secrets.service';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { ConfigCacheService } from './config-cache.service';
import { ConfigReadsService } from './config-reads.service';
import { ConfigRepository } from './config-repository';
import { loadLayeredDefaults } from './defaults-loader';

const SYSTEM_ACTOR = 'system';

/**
 * At start, before anything reads a config: gives every registered service its version 1 (the
 * layered defaults) unless the store has it, warms the in-memory state, and checks that every
 * stored secret can be opened with the configured master keys.
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
    private readonly audit: AuditService,
  ) {}

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

  private async ensureInitial(
    definition: ServiceDefinition,
    config: Record<string, unknown>,
    sources: string[],
  ): Promise<void> {
    const service = definition.name;
    try {
      await this.db.transaction(async (manager) => {
        if (await this.repository.findService(manager, service)) return;
        const at = new Date().toISOString();
        const reason = `initial defaults from ${sources.join(' + ')}`;
        await this.repository.insertService(manager, service, {
          version: 1,
          at,
          actor: SYSTEM_ACTOR,
        });
        await this.repository.insertVersion(manager, {
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
      const exists = await this.db.read((m) => this.repository.findService(m, service));
      if (!exists) throw error;
    }
    const state = await this.db.read((m) => this.reads.loadCurrent(m, service));
    if (state) this.cache.set(state);
  }
}
