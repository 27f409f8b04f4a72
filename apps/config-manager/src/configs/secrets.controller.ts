import { Body, Controller, Delete, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireRole } from '../auth/auth.decorators';
import { CHANGE_REASON_HEADER, versionEtag } from '../common/change-headers';
import { type ChangeContext, WriteContext } from '../common/write-context';
import { ConfigWritesService } from './config-writes.service';
import { SecretValueDto } from './dto/secret-value.dto';

/** Write-only secrets: set or clear (each change is a config version); values are never returned. */
@ApiTags('secrets')
@ApiBearerAuth()
@Controller('services/:service/secrets')
export class SecretsController {
  constructor(private readonly writes: ConfigWritesService) {}

  @Put(':path')
  @HttpCode(204)
  @RequireRole('secrets:write')
  @ApiOperation({ summary: 'Set a secret ("" clears it); creates a version if it changed' })
  @ApiHeader(CHANGE_REASON_HEADER)
  async set(
    @Param('service') service: string,
    @Param('path') path: string,
    @Body() body: SecretValueDto,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const result = await this.writes.writeSecret(service, path, body.value, context);
    res.setHeader('ETag', versionEtag(result.state.version));
    res.setHeader('X-Config-Published', String(result.published));
  }

  @Delete(':path')
  @HttpCode(204)
  @RequireRole('secrets:write')
  @ApiOperation({ summary: 'Clear a secret; creates a version if it was set' })
  async clear(
    @Param('service') service: string,
    @Param('path') path: string,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const result = await this.writes.writeSecret(service, path, '', context);
    res.setHeader('ETag', versionEtag(result.state.version));
    res.setHeader('X-Config-Published', String(result.published));
  }
}
