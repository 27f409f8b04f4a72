import { Module } from '@nestjs/common';
import { BrokerConnectionService } from './broker-connection.service';
import { EmbeddedBrokerService } from './embedded-broker.service';

/** The manager's MQTT connection (and the embedded broker when MQTT_URL is unset). */
@Module({
  providers: [EmbeddedBrokerService, BrokerConnectionService],
  exports: [BrokerConnectionService],
})
export class MessagingModule {}
