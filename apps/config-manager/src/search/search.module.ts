import { Module } from '@nestjs/common';
import { ConfigStateModule } from '../configs/config-state.module';
import { SearchController } from './search.controller';
import { SearchService } from './search.service';

@Module({
  imports: [ConfigStateModule],
  controllers: [SearchController],
  providers: [SearchService],
})
export class SearchModule {}
