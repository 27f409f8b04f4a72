import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { DecimalInteger } from '../common/decimal-integer';

/** GET …/export: the version to export (the current one when omitted). */
export class ExportQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1 })
  @IsOptional()
  @DecimalInteger({ min: 1 })
  version?: number;
}

/** POST …/import: `dryRun=true` only says what the import would do. */
export class ImportQueryDto {
  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'dryRun must be true or false' })
  dryRun?: 'true' | 'false';
}
