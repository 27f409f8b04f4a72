import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { SERVICE_NAME_PATTERN } from '@app/contracts';
import { PageQueryDto } from '../../common/dto/page-query.dto';

/** Audit filters. */
export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'dedup-worker' })
  @IsOptional()
  @Matches(SERVICE_NAME_PATTERN, { message: 'service must be a service name like dedup-worker' })
  service?: string;
}
