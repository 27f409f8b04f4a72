import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ConfigStateModule } from '../configs/config-state.module';
import { InstancesModule } from '../instances/instances.module';
import { MessagingModule } from '../messaging/messaging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PublishingModule } from '../publishing/publishing.module';
import { SecretsModule } from '../secrets/secrets.module';
import { CandidatePublisher } from './candidate-publisher';
import { RolloutDriver } from './rollout-driver.service';
import { RolloutMetrics } from './rollout-metrics';
import { RolloutReleases } from './rollout-releases.service';
import { RolloutStoreModule } from './rollout-store.module';
import { RolloutsController } from './rollouts.controller';
import { RolloutsService } from './rollouts.service';

/**
 * Progressive rollouts of staged versions (docs/rollouts.md): the REST API, the durable state
 * machine and its driver over the instance view, the signed candidate topic, and the versions
 * a rollout makes current (the candidate, or a rollback to the stable content).
 */
@Module({
  imports: [
    RolloutStoreModule,
    ConfigStateModule,
    InstancesModule,
    PublishingModule,
    MessagingModule,
    SecretsModule,
    AuditModule,
    MetricsModule,
  ],
  controllers: [RolloutsController],
  providers: [RolloutsService, RolloutDriver, RolloutReleases, CandidatePublisher, RolloutMetrics],
})
export class RolloutsModule {}
