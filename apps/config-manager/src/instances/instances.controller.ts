import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { InstanceView } from '@app/contracts';
import type { Request, Response } from 'express';
import { RequireRole } from '../auth/auth.decorators';
import { ServiceCatalog } from '../configs/service-catalog';
import { InstancesQueryDto } from './dto/instances-query.dto';
import { InstancesService } from './instances.service';

/** What each worker instance applied, as it reported on system/health/<service>/<instanceId>. */
@ApiTags('instances')
@ApiBearerAuth()
@Controller('services')
export class InstancesController {
  constructor(
    private readonly instances: InstancesService,
    private readonly catalog: ServiceCatalog,
  ) {}

  @Get(':service/instances')
  @RequireRole('config:read')
  @ApiOperation({
    summary:
      'Instances with applied version, status, last seen and last rejection, most recently seen first; ' +
      'paged (limit, offset), X-Total-Count and a Link rel="next" header',
  })
  list(
    @Param('service') service: string,
    @Query() query: InstancesQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): InstanceView[] {
    const all = this.instances.list(this.catalog.entry(service).definition.name);
    const page = all.slice(query.offset, query.offset + query.limit);
    res.setHeader('X-Total-Count', String(all.length));
    const next = query.offset + page.length;
    if (next < all.length) {
      res.setHeader('Link', `<${req.path}?limit=${query.limit}&offset=${next}>; rel="next"`);
    }
    return page;
  }
}
