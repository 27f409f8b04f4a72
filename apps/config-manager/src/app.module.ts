import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { FixedWindowThrottlerStorage } from './common/fixed-window-throttler.storage';
import { HttpErrorFilter } from './common/http-error.filter';
import { ReadOnlyInterceptor } from './common/read-only.interceptor';
import { ConfigsModule } from './configs/configs.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PublishingModule } from './publishing/publishing.module';
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
        // Per client IP and minute; /health and /metrics opt out with @SkipThrottle.
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: settings.rateLimitPerMinute }],
          storage: new FixedWindowThrottlerStorage(),
          errorMessage: `Too many requests: at most ${settings.rateLimitPerMinute} per minute per client; retry after the Retry-After seconds`,
        }),
        DatabaseModule,
        AuthModule,
        AuditModule,
        ConfigsModule,
        SecretsModule,
        SearchModule,
        PublishingModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [
        // Before the auth guard's providers, so floods are refused before any token is checked.
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: ReadOnlyInterceptor },
      ],
    };
  }
}
