import { Body, Controller, Delete, Headers, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/roles';
import { parseIfMatch, parseReason, versionEtag } from '../common/change-headers';
import { ConfigsService } from '../configs/configs.service';
import { SecretValueDto } from './dto/secret-value.dto';

/** Write-only secrets: set or clear; values are never returned. */
@ApiTags('secrets')
@ApiBearerAuth()
@Controller('services/:service/secrets')
export class SecretsController {
  constructor(private readonly configs: ConfigsService) {}

  @Put(':path')
  @HttpCode(204)
  @RequireRole('secrets:write')
  @ApiOperation({ summary: 'Set a secret ("" clears it); creates a version if it changed' })
  @ApiHeader({ name: 'X-Change-Reason', required: false })
  async set(
    @Param('service') service: string,
    @Param('path') path: string,
    @Body() body: SecretValueDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('x-change-reason') reason: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const result = await this.configs.writeSecret(service, path, body.value, {
      actor: principal.name,
      ifMatch: parseIfMatch(ifMatch),
      reason: parseReason(reason),
    });
    res.setHeader('ETag', versionEtag(result.state.version));
  }

  @Delete(':path')
  @HttpCode(204)
  @RequireRole('secrets:write')
  @ApiOperation({ summary: 'Clear a secret; creates a version if it was set' })
  async clear(
    @Param('service') service: string,
    @Param('path') path: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('x-change-reason') reason: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const result = await this.configs.writeSecret(service, path, '', {
      actor: principal.name,
      ifMatch: parseIfMatch(ifMatch),
      reason: parseReason(reason),
    });
    res.setHeader('ETag', versionEtag(result.state.version));
  }
}
