import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MessagingModule } from '../messaging/messaging.module';
import { BrokerHealthIndicator } from './broker.health';
import { DatabaseHealthIndicator } from './database.health';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), MessagingModule],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, BrokerHealthIndicator],
})
export class HealthModule {}
