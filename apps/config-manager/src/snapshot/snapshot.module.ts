import { Module } from '@nestjs/common';
import { SnapshotFile } from './snapshot-file';

/** The signed snapshot of every service's current state in DATA_DIR (cold start, restores). */
@Module({
  providers: [SnapshotFile],
  exports: [SnapshotFile],
})
export class SnapshotModule {}
