import { Module } from '@nestjs/common';
import { ConfigStateModule } from '../configs/config-state.module';
import { MessagingModule } from '../messaging/messaging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SecretsModule } from '../secrets/secrets.module';
import { ConfigPublisherService } from './config-publisher.service';
import { EnvelopeBuilderService } from './envelope-builder.service';
import { HeartbeatService } from './heartbeat.service';
import { KeysController } from './keys.controller';
import { RepublishController } from './republish.controller';
import { RetainedConfigWatch } from './retained-config-watch';
import { SnapshotWriter } from './snapshot-writer';
import { SnapshotModule } from '../snapshot/snapshot.module';

/**
 * Signed, retained delivery of every version over MQTT: the envelope builder, the publisher
 * with its outbox, the heartbeat re-signing current versions, the watch on the manager's own
 * config topics, and the public keys.
 */
@Module({
  imports: [ConfigStateModule, SecretsModule, MessagingModule, MetricsModule, SnapshotModule],
  controllers: [KeysController, RepublishController],
  providers: [
    EnvelopeBuilderService,
    ConfigPublisherService,
    RetainedConfigWatch,
    HeartbeatService,
    SnapshotWriter,
  ],
  exports: [ConfigPublisherService, EnvelopeBuilderService, RetainedConfigWatch, HeartbeatService],
})
export class PublishingModule {}
