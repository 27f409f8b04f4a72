import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ImportPreview, ImportResult, SignedEnvelope } from '@app/contracts';
import type { Response } from 'express';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/roles';
import { type ChangeContext, WriteContext } from '../common/write-context';
import { ExportQueryDto, ImportQueryDto } from './promotion-query.dto';
import { PromotionService } from './promotion.service';

/** Promotion between environments: export a version as a signed bundle, import one as a staged version. */
@ApiTags('promotion')
@ApiBearerAuth()
@Controller('services')
export class PromotionController {
  constructor(private readonly promotion: PromotionService) {}

  @Get(':service/export')
  @RequireRole('config:read')
  @ApiOperation({
    summary:
      'One version (default: the current one) as a bundle signed by this manager: config, schema, schema hash, the names of set secrets (never their values)',
  })
  export(
    @Param('service') service: string,
    @Query() query: ExportQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SignedEnvelope> {
    return this.promotion.export(service, query.version, principal.name);
  }

  @Post(':service/import')
  @RequireRole('config:write')
  @ApiOperation({
    summary:
      "Verify another environment's bundle (IMPORT_TRUSTED_KEYS) against this manager's schema; dryRun=true shows the diff, otherwise a staged version of kind import is made (201)",
  })
  async import(
    @Param('service') service: string,
    @Query() query: ImportQueryDto,
    @Body() body: unknown,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ImportPreview | ImportResult> {
    const checked = this.promotion.check(service, body);
    if (query.dryRun === 'true') {
      res.status(200);
      return checked.preview;
    }
    const result = await this.promotion.stage(checked, context);
    res.status(result.state === 'staged' ? 201 : 200);
    if (result.state === 'staged') res.setHeader('X-Staged-Version', String(result.version));
    return result;
  }
}
