import { Body, Controller, Delete, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireRole } from '../auth/auth.decorators';
import { CHANGE_REASON_HEADER, PUBLISH_HEADER } from '../common/change-headers';
import { type ChangeContext, WriteContext } from '../common/write-context';
import { ConfigWritesService } from './config-writes.service';
import { setWriteHeaders } from './write-headers';
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
  @ApiHeader(PUBLISH_HEADER)
  async set(
    @Param('service') service: string,
    @Param('path') path: string,
    @Body() body: SecretValueDto,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    setWriteHeaders(res, await this.writes.writeSecret(service, path, body.value, context));
  }

  @Delete(':path')
  @HttpCode(204)
  @RequireRole('secrets:write')
  @ApiOperation({ summary: 'Clear a secret; creates a version if it was set' })
  @ApiHeader(PUBLISH_HEADER)
  async clear(
    @Param('service') service: string,
    @Param('path') path: string,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    setWriteHeaders(res, await this.writes.writeSecret(service, path, '', context));
  }
}
