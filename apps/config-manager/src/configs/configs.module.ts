import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { InstancesModule } from '../instances/instances.module';
import { SecretsService } from '../secrets/secrets.service';
import { ConfigCacheModule } from './config-cache.module';
import { ConfigFacadeController } from './config-facade.controller';
import { ConfigStoreService } from './config-store.service';
import { ConfigsController } from './configs.controller';
import { ConfigsService } from './configs.service';

/** Versioned configuration of every registered service. */
@Module({
  imports: [AuditModule, InstancesModule, ConfigCacheModule],
  controllers: [ConfigsController, ConfigFacadeController],
  providers: [ConfigsService, ConfigStoreService, SecretsService],
  exports: [ConfigsService, SecretsService],
})
export class ConfigsModule {}
