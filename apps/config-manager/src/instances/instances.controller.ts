import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { findServiceDefinition } from '@app/contracts';
import { RequireRole } from '../auth/auth.decorators';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { InstanceView } from './instance-status';
import { InstancesService } from './instances.service';

/** What each worker instance applied, as it reported on system/health/<service>/<instanceId>. */
@ApiTags('instances')
@ApiBearerAuth()
@Controller('services')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Get(':service/instances')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Instances with applied version, status, last seen and last rejection' })
  list(@Param('service') service: string): InstanceView[] {
    if (!findServiceDefinition(service)) {
      throw new DomainError(ErrorCode.UnknownService, `Unknown service "${service.slice(0, 80)}"`);
    }
    return this.instances.list(service);
  }
}
