import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { DatabaseService } from '../database/database.service';
import { BrokerConnectionService } from '../messaging/broker-connection.service';

/** Liveness and readiness for orchestrators (no auth, no secrets). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: DatabaseService,
    private readonly broker: BrokerConnectionService,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: database and MQTT broker (503 naming what is down)' })
  async ready(@Res({ passthrough: true }) res: Response) {
    const database = (await this.db.ping())
      ? { status: 'up' }
      : { status: 'down', reason: this.db.unavailableReason() ?? 'unreachable', readOnly: true };
    const link = this.broker.describe();
    const broker = link.connected
      ? { status: 'up', url: link.url }
      : {
          status: 'down',
          url: link.url,
          reason: link.error ?? 'not connected',
          note: 'writes are still accepted and published when the broker returns',
        };
    const ready = database.status === 'up' && broker.status === 'up';
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not ready', checks: { database, broker } };
  }
}
