import { Module } from '@nestjs/common';
import { ConfigStateModule } from '../configs/config-state.module';
import { SearchController } from './search.controller';
import { SearchService } from './search.service';

/**
 * GET /api/search: keys and values across every service's current config, served from memory;
 * secrets match by name only.
 */
@Module({
  imports: [ConfigStateModule],
  controllers: [SearchController],
  providers: [SearchService],
})
export class SearchModule {}
