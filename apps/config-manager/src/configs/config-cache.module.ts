import { Module } from '@nestjs/common';
import { ConfigCacheService } from './config-cache.service';

/**
 * The in-memory current state of every service, one floor below the use cases: the configs
 * module writes it, and the instance view reads from it which versions exist.
 */
@Module({
  providers: [ConfigCacheService],
  exports: [ConfigCacheService],
})
export class ConfigCacheModule {}
