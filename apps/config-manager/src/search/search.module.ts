import { Module } from '@nestjs/common';
import { ConfigsModule } from '../configs/configs.module';
import { SearchController } from './search.controller';
import { SearchService } from './search.service';

@Module({
  imports: [ConfigsModule],
  controllers: [SearchController],
  providers: [SearchService],
})
export class SearchModule {}
