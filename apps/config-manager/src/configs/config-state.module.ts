import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { SecretsModule } from '../secrets/secrets.module';
import { SnapshotModule } from '../snapshot/snapshot.module';
import { ConfigCacheService } from './config-cache.service';
import { ConfigReadsService } from './config-reads.service';
import { ConfigRepository } from './config-repository';
import { ConfigSeeder } from './config-seeder.service';
import { ServiceCatalog } from './service-catalog';
import { ServiceRegistrar } from './service-registrar';

/**
 * The floor every config feature stands on: the store's `services`, `service_schemas` and
 * `config_versions` tables (ConfigRepository), the catalog of registered services and their
 * schemas (ServiceCatalog, ServiceRegistrar), the current state in memory, the read use cases, and the first versions
 * seeded at start. Publishing, the instance view and search read from here; the write use cases
 * (ConfigsModule) sit above it and above publishing.
 */
@Module({
  imports: [AuditModule, SecretsModule, SnapshotModule],
  providers: [
    ConfigCacheService,
    ConfigRepository,
    ConfigReadsService,
    ServiceCatalog,
    ServiceRegistrar,
    ConfigSeeder,
  ],
  exports: [
    ConfigCacheService,
    ConfigRepository,
    ConfigReadsService,
    ServiceCatalog,
    ServiceRegistrar,
  ],
})
export class ConfigStateModule {}
