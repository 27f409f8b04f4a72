import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import type { AuditEntry } from '@app/contracts';
import { AuditService } from './audit.service';
import { AuditQueryDto } from './dto/audit-query.dto';

/** The audit log, for admins. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Who changed what, when and why (newest first; secrets as "changed")' })
  list(@Query() query: AuditQueryDto): Promise<AuditEntry[]> {
    return this.audit.list({ service: query.service, limit: query.limit, before: query.before });
  }
}
