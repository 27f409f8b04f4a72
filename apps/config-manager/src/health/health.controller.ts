import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { SkipRateLimit } from '../common/rate-limit.guard';
import { BrokerHealthIndicator } from './broker.health';
import { DatabaseHealthIndicator } from './database.health';
import { RetainedConfigsHealthIndicator } from './retained-configs.health';

/** Readiness as orchestrators, the worker tests and the benches read it. */
export interface ReadinessBody {
  status: 'ready' | 'not ready';
  checks: HealthCheckResult['details'];
}

/** Liveness and readiness for orchestrators (no auth, no rate limit, no secrets). */
@ApiTags('health')
@SkipRateLimit()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly broker: BrokerHealthIndicator,
    private readonly retainedConfigs: RetainedConfigsHealthIndicator,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: database and MQTT broker (503 naming what is down), and incidents on the config topics',
  })
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessBody> {
    try {
      const result = await this.health.check([
        () => this.database.check('database'),
        () => this.broker.check('broker'),
        () => this.retainedConfigs.check('retainedConfigs'),
      ]);
      return { status: 'ready', checks: result.details };
    } catch (error) {
      // Terminus reports "down" as a 503 exception carrying the full result; answer with the
      // same body shape as "up" rather than letting the error filter reduce it to a message.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'not ready', checks: (error.getResponse() as HealthCheckResult).details };
    }
  }
}
