import { Module } from '@nestjs/common';
import { ConfigsModule } from '../configs/configs.module';
import { BrokerConnectionService } from './broker-connection.service';
import { ConfigPublisherService } from './config-publisher.service';
import { EmbeddedBrokerService } from './embedded-broker.service';
import { EnvelopeBuilderService } from './envelope-builder.service';
import { KeysController } from './keys.controller';
import { RepublishController } from './republish.controller';

/** Signed, retained delivery of every version over MQTT. */
@Module({
  imports: [ConfigsModule],
  controllers: [KeysController, RepublishController],
  providers: [
    EmbeddedBrokerService,
    BrokerConnectionService,
    EnvelopeBuilderService,
    ConfigPublisherService,
  ],
  exports: [BrokerConnectionService],
})
export class PublishingModule {}
