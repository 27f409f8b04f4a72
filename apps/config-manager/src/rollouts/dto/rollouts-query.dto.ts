import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { DecimalInteger } from '../../common/decimal-integer';

/** Paging of GET …/rollouts: the newest `limit`. */
export class RolloutsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @DecimalInteger({ min: 1, max: 200 })
  limit: number = 50;
}
