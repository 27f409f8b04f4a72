import { Module } from '@nestjs/common';
import { ConfigCacheModule } from '../configs/config-cache.module';
import { ConfigsModule } from '../configs/configs.module';
import { MessagingModule } from '../messaging/messaging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ConfigPublisherService } from './config-publisher.service';
import { EnvelopeBuilderService } from './envelope-builder.service';
import { KeysController } from './keys.controller';
import { RepublishController } from './republish.controller';
import { RetainedConfigWatch } from './retained-config-watch';

/** Signed, retained delivery of every version over MQTT. */
@Module({
  imports: [ConfigsModule, ConfigCacheModule, MessagingModule, MetricsModule],
  controllers: [KeysController, RepublishController],
  providers: [EnvelopeBuilderService, ConfigPublisherService, RetainedConfigWatch],
  exports: [RetainedConfigWatch],
})
export class PublishingModule {}
