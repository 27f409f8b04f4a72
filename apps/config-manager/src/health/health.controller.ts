import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { DatabaseService } from '../database/database.service';

/** Liveness and readiness for orchestrators (no auth, no secrets). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly db: DatabaseService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: the database answers (503 with the reason when not)' })
  async ready(@Res({ passthrough: true }) res: Response) {
    const database = (await this.db.ping())
      ? { status: 'up' }
      : { status: 'down', reason: this.db.unavailableReason() ?? 'unreachable', readOnly: true };
    const ready = database.status === 'up';
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not ready', checks: { database } };
  }
}
