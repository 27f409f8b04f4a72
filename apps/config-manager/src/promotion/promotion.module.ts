import { Module } from '@nestjs/common';
import { ConfigsModule } from '../configs/configs.module';
import { ConfigStateModule } from '../configs/config-state.module';
import { PublishingModule } from '../publishing/publishing.module';
import { PromotionController } from './promotion.controller';
import { PromotionService } from './promotion.service';

/**
 * Promotion between environments: GET …/export signs a version as a bundle; POST …/import
 * verifies another manager's bundle and stages it as a version of kind `import`, ready for a
 * rollout (docs/rollouts.md).
 */
@Module({
  imports: [ConfigStateModule, PublishingModule, ConfigsModule],
  controllers: [PromotionController],
  providers: [PromotionService],
})
export class PromotionModule {}
