import { Module } from '@nestjs/common';
import { ConfigStateModule } from '../configs/config-state.module';
import { MessagingModule } from '../messaging/messaging.module';
import { InstancesController } from './instances.controller';
import { InstancesService } from './instances.service';

/**
 * The fleet as it reports itself on system/health/+/+: one bounded, plausible view entry per
 * worker instance, persisted in batches, served by GET …/instances.
 */
@Module({
  imports: [MessagingModule, ConfigStateModule],
  controllers: [InstancesController],
  providers: [InstancesService],
  exports: [InstancesService],
})
export class InstancesModule {}
