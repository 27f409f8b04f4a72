import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { SearchQueryDto } from './dto/search-query.dto';
import type { SearchHit } from '@app/contracts';
import { SearchService } from './search.service';

@ApiTags('search')
@ApiBearerAuth()
@Controller('search')
export class SearchController {
  constructor(private readonly search: SearchService) {}

  @Get()
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Keys and values matching q across every service (at most 200 hits)' })
  find(@Query() query: SearchQueryDto): SearchHit[] {
    return this.search.search(query.q);
  }
}
