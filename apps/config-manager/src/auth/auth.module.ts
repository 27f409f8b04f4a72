import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { MeController } from './me.controller';
import { TokenRegistryService } from './token-registry.service';

/** Bearer tokens and roles, enforced on every route by a global guard. */
@Module({
  controllers: [MeController],
  providers: [TokenRegistryService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenRegistryService],
})
export class AuthModule {}
