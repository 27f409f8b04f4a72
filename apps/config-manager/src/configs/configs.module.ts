import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { InstancesModule } from '../instances/instances.module';
import { SecretsService } from '../secrets/secrets.service';
import { ConfigCacheService } from './config-cache.service';
import { ConfigFacadeController } from './config-facade.controller';
import { ConfigStoreService } from './config-store.service';
import { ConfigsController } from './configs.controller';
import { ConfigsService } from './configs.service';

/** Versioned configuration of every registered service. */
@Module({
  imports: [AuditModule, InstancesModule],
  controllers: [ConfigsController, ConfigFacadeController],
  providers: [ConfigsService, ConfigStoreService, ConfigCacheService, SecretsService],
  exports: [ConfigsService, SecretsService],
})
export class ConfigsModule {}
