import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ConfigStateModule } from '../configs/config-state.module';
import { MessagingModule } from '../messaging/messaging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PublishingModule } from '../publishing/publishing.module';
import { SnapshotModule } from '../snapshot/snapshot.module';
import { RestoreContinuation } from './restore-continuation.service';

/** Restores that strand nobody: a store found behind the fleet gets a `restore` version above it. */
@Module({
  imports: [
    ConfigStateModule,
    AuditModule,
    PublishingModule,
    MessagingModule,
    MetricsModule,
    SnapshotModule,
  ],
  providers: [RestoreContinuation],
})
export class RestoreModule {}
