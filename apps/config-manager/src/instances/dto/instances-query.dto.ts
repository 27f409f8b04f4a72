import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { DecimalInteger } from '../../common/decimal-integer';

/** Largest page of GET …/instances. */
export const MAX_INSTANCES_PAGE = 1000;

/** Paging of the instance view: most recently seen first, `offset` entries skipped. */
export class InstancesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_INSTANCES_PAGE, default: 200 })
  @IsOptional()
  @DecimalInteger({ min: 1, max: MAX_INSTANCES_PAGE })
  limit: number = 200;

  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'Entries to skip' })
  @IsOptional()
  @DecimalInteger({ min: 0 })
  offset: number = 0;
}
