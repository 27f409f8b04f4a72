import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { ConfigReadsService } from '../configs/config-reads.service';
import { ConfigPublisherService } from './config-publisher.service';

@ApiTags('publishing')
@ApiBearerAuth()
@Controller('services')
export class RepublishController {
  constructor(
    private readonly configs: ConfigReadsService,
    private readonly publisher: ConfigPublisherService,
  ) {}

  @Post(':service/republish')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    summary: 'Publish the current signed envelope again (503 if the broker is away)',
  })
  republish(@Param('service') service: string) {
    return this.publisher.republish(this.configs.definition(service).name);
  }
}
