import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RolloutView } from '@app/contracts';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/roles';
import { RolloutsQueryDto } from './dto/rollouts-query.dto';
import { type RolloutAction, RolloutsService } from './rollouts.service';

const ACTIONS: Record<RolloutAction, string> = {
  pause:
    'Pause: no step starts and no trigger fires until resumed (the cohort keeps the candidate)',
  resume: 'Resume a paused rollout: its current step starts again',
  abort: 'Abort: the targeted instances return to the stable content as a new version',
  promote: 'Promote: skip to the last step; the candidate becomes the current version for everyone',
};

/** Progressive rollouts of staged versions (docs/rollouts.md). */
@ApiTags('rollouts')
@ApiBearerAuth()
@Controller('services/:service/rollouts')
export class RolloutsController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Post()
  @RequireRole('config:write')
  @ApiOperation({
    summary:
      'Start a rollout of a staged version: ordered steps (cohorts), ack timeout, bake, failed-run threshold; 201',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['version', 'strategy'],
      example: {
        version: 14,
        strategy: {
          steps: [
            { cohort: { selector: { tier: 'canary' } }, bake: { runs: 2, seconds: 30 } },
            { cohort: { percent: 50 }, bake: { runs: 1 } },
            { cohort: { all: true } },
          ],
          ackTimeoutSeconds: 30,
          maxFailedRuns: 0,
        },
      },
    },
  })
  create(
    @Param('service') service: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutView> {
    return this.rollouts.create(service, body, principal.name);
  }

  @Get()
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Rollouts of the service, newest first' })
  list(
    @Param('service') service: string,
    @Query() query: RolloutsQueryDto,
  ): Promise<RolloutView[]> {
    return this.rollouts.list(service, query.limit);
  }

  @Get(':id')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'One rollout: strategy, state, steps, per-instance state, timeline' })
  get(@Param('service') service: string, @Param('id') id: string): Promise<RolloutView> {
    return this.rollouts.get(service, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @RequireRole('config:write')
  @ApiOperation({ summary: ACTIONS.pause })
  pause(
    @Param('service') service: string,
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutView> {
    return this.rollouts.act(service, id, 'pause', principal.name);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireRole('config:write')
  @ApiOperation({ summary: ACTIONS.resume })
  resume(
    @Param('service') service: string,
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutView> {
    return this.rollouts.act(service, id, 'resume', principal.name);
  }

  @Post(':id/abort')
  @HttpCode(200)
  @RequireRole('config:write')
  @ApiOperation({ summary: ACTIONS.abort })
  abort(
    @Param('service') service: string,
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutView> {
    return this.rollouts.act(service, id, 'abort', principal.name);
  }

  @Post(':id/promote')
  @HttpCode(200)
  @RequireRole('config:write')
  @ApiOperation({ summary: ACTIONS.promote })
  promote(
    @Param('service') service: string,
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutView> {
    return this.rollouts.act(service, id, 'promote', principal.name);
  }
}
