import { Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { SnapshotFile } from '../snapshot/snapshot-file';
import { SnapshotModule } from '../snapshot/snapshot.module';
import { isDatabaseUnavailableError } from './database-errors';
import { dataSourceOptions, ensurePostgresSchema } from './database-options';
import { DatabaseService, describeDatabaseError } from './database.service';
import { VersionStore } from './version-store';

/**
 * The store: SQLite or Postgres through TypeORM, migrated at start. When Postgres is unreachable
 * at start and DATA_DIR holds a verified snapshot, the data source is left unconnected (a cold
 * start: DatabaseService connects, migrates and warms the manager up when it returns); without
 * a snapshot start-up fails as it always did.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [SnapshotModule],
      inject: [SETTINGS, SnapshotFile],
      useFactory: async (settings: Settings, snapshot: SnapshotFile) => {
        const options = {
          ...dataSourceOptions(settings.database),
          retryAttempts: 3,
          retryDelay: 1000,
        };
        try {
          await ensurePostgresSchema(settings.database);
        } catch (error) {
          if (!isDatabaseUnavailableError(error) || !snapshot.initial()) throw error;
          new Logger('DatabaseModule').error(
            `The database is unreachable at start (${describeDatabaseError(error)}): starting read-only ` +
              `from ${snapshot.path}; it is probed every ${settings.dbProbeIntervalMs} ms.`,
          );
          return { ...options, manualInitialization: true };
        }
        return options;
      },
    }),
    SnapshotModule,
  ],
  providers: [DatabaseService, VersionStore],
  exports: [DatabaseService, VersionStore, SnapshotModule],
})
export class DatabaseModule {}
