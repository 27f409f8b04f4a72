import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MessagingModule } from '../messaging/messaging.module';
import { PublishingModule } from '../publishing/publishing.module';
import { BrokerHealthIndicator } from './broker.health';
import { DatabaseHealthIndicator } from './database.health';
import { HealthController } from './health.controller';
import { RetainedConfigsHealthIndicator } from './retained-configs.health';

/**
 * /health (liveness) and /health/ready: the database, the broker, and the incidents the manager
 * found on its own config topics.
 */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), MessagingModule, PublishingModule],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, BrokerHealthIndicator, RetainedConfigsHealthIndicator],
})
export class HealthModule {}
