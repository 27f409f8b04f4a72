import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AccessDenialsService } from './access-denials.service';
import { AuthGuard } from './auth.guard';
import { MeController } from './me.controller';
import { TokenRegistryService } from './token-registry.service';

/** Bearer tokens and roles, enforced on every route by a global guard; refusals counted and audited. */
@Module({
  imports: [AuditModule, MetricsModule],
  controllers: [MeController],
  providers: [
    TokenRegistryService,
    AccessDenialsService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenRegistryService, AccessDenialsService],
})
export class AuthModule {}
