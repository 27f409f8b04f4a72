import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { RateLimitGuard, rateLimitOptions } from './common/rate-limit.guard';
import { ConfigsModule } from './configs/configs.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PublishingModule } from './publishing/publishing.module';
import { RegistryModule } from './registry/registry.module';
import { RestoreModule } from './restore/restore.module';
import { RolloutsModule } from './rollouts/rollouts.module';
import { SearchModule } from './search/search.module';
import { SecretsModule } from './secrets/secrets.module';
import type { Settings } from './settings/settings';
import { SettingsModule } from './settings/settings.module';

/** config-manager, built from validated settings (so tests can build it with their own). */
@Module({})
export class AppModule {
  static forRoot(settings: Settings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        // Per client IP and per bearer token, each minute across all routes; /health and
        // /metrics opt out with @SkipRateLimit.
        ThrottlerModule.forRoot(rateLimitOptions(settings.rateLimitPerMinute)),
        DatabaseModule,
        AuthModule,
        AuditModule,
        ConfigsModule.register({ chaosExitAfterCommit: settings.chaosExitAfterCommit }),
        RegistryModule,
        RolloutsModule,
        SecretsModule,
        SearchModule,
        PublishingModule,
        RestoreModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        // Before the auth guard's providers, so floods are refused before any token is checked.
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
