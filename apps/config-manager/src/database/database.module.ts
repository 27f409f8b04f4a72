import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { dataSourceOptions, ensurePostgresSchema } from './database-options';
import { DatabaseService } from './database.service';

/** The store: SQLite or Postgres through TypeORM, migrated at start. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [SETTINGS],
      useFactory: async (settings: Settings) => {
        await ensurePostgresSchema(settings.database);
        return { ...dataSourceOptions(settings.database), retryAttempts: 3, retryDelay: 1000 };
      },
    }),
  ],
  providers: [DatabaseService],
  exports: [DatabaseService],
})
export class DatabaseModule {}
