import { Module } from '@nestjs/common';
import { SnapshotModule } from '../snapshot/snapshot.module';
import { SecretsService } from './secrets.service';

/**
 * Secrets at rest: AES-256-GCM ciphertexts under the master key ring, the in-memory copy that
 * envelopes are sealed from, and master-key rotation. The write endpoints are config writes
 * (each creates a version) and live with them in ConfigsModule.
 */
@Module({
  imports: [SnapshotModule],
  providers: [SecretsService],
  exports: [SecretsService],
})
export class SecretsModule {}
