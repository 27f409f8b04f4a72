import { Module } from '@nestjs/common';
import { RolloutRepository } from './rollout.repository';

/**
 * The `rollouts` table (RolloutRepository), one floor below the features that read it: the
 * config writes and the registration API refuse to change a service with an active rollout,
 * and RolloutsModule drives the rollouts themselves.
 */
@Module({
  providers: [RolloutRepository],
  exports: [RolloutRepository],
})
export class RolloutStoreModule {}
