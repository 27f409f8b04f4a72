import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { DecimalInteger } from '../decimal-integer';

/** Paging for history and audit: newest first, `before` is an exclusive cursor. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @DecimalInteger({ min: 1, max: 500 })
  limit: number = 50;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'Only entries older than this version (or audit id)',
  })
  @IsOptional()
  @DecimalInteger({ min: 1 })
  before?: number;
}
