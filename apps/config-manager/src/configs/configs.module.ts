import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { InstancesModule } from '../instances/instances.module';
import { PublishingModule } from '../publishing/publishing.module';
import { RolloutStoreModule } from '../rollouts/rollout-store.module';
import { SecretsModule } from '../secrets/secrets.module';
import { AFTER_COMMIT, ChaosExitAfterCommit } from './after-commit';
import { ConfigFacadeController } from './config-facade.controller';
import { ConfigStateModule } from './config-state.module';
import { ConfigWritesService } from './config-writes.service';
import { ConfigsController } from './configs.controller';
import { SecretsController } from './secrets.controller';

/** What ConfigsModule is built with. */
export interface ConfigsModuleOptions {
  /** The chaos harness's CHAOS_EXIT_AFTER_COMMIT test hook (refused in production). */
  readonly chaosExitAfterCommit: boolean;
}

/**
 * The config API of every registered service: reads, writes (patch, replace, rollback,
 * secrets: validate → plan → commit, then publish), history, diff, and the compatibility façade.
 */
@Module({})
export class ConfigsModule {
  static register(options: ConfigsModuleOptions): DynamicModule {
    const hooks: Provider[] = options.chaosExitAfterCommit
      ? [{ provide: AFTER_COMMIT, useClass: ChaosExitAfterCommit }]
      : [];
    return {
      module: ConfigsModule,
      imports: [
        ConfigStateModule,
        PublishingModule,
        InstancesModule,
        AuditModule,
        SecretsModule,
        RolloutStoreModule,
      ],
      controllers: [ConfigsController, ConfigFacadeController, SecretsController],
      providers: [ConfigWritesService, ...hooks],
    };
  }
}
