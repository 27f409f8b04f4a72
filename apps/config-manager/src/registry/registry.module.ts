import { Module } from '@nestjs/common';
import { ConfigStateModule } from '../configs/config-state.module';
import { PublishingModule } from '../publishing/publishing.module';
import { RolloutStoreModule } from '../rollouts/rollout-store.module';
import { ServiceRegistrationService } from './service-registration.service';
import { ServicesController } from './services.controller';

/**
 * Services registered at runtime (PUT/DELETE /api/services/:service and their schema history),
 * on the config state floor and publishing: a new service is a REST call, not a release.
 */
@Module({
  imports: [ConfigStateModule, PublishingModule, RolloutStoreModule],
  controllers: [ServicesController],
  providers: [ServiceRegistrationService],
})
export class RegistryModule {}
