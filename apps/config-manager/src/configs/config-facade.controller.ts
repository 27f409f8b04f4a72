import { Body, Controller, Get, Patch, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DEDUP_WORKER_SERVICE, deepMerge } from '@app/contracts';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import { assertRole, type Principal } from '../auth/roles';
import { versionEtag } from '../common/change-headers';
import { requireObject, requireSecretValue } from '../common/request-body';
import { type ChangeContext, WriteContext } from '../common/write-context';
import { ConfigReadsService } from './config-reads.service';
import { ConfigWritesService } from './config-writes.service';
import type { ConfigState } from './config-state';

const SERVICE = DEDUP_WORKER_SERVICE;
const API_KEY_PATH = 'ai.api_key';
const API_KEY_FIELD = 'ai_api_key';

/** The original event-dedup service's shape: sections at top level, key write-only. */
type FacadeConfig = Record<string, unknown> & { has_api_key: boolean; updated_at: string | null };

/**
 * Compatibility façade for the event-dedup service's existing clients: `dedup-worker`'s config
 * in their original shape, on top of the same versioned store and the same write use case.
 */
@ApiTags('compatibility')
@ApiBearerAuth()
@Controller('config')
export class ConfigFacadeController {
  constructor(
    private readonly reads: ConfigReadsService,
    private readonly writes: ConfigWritesService,
  ) {}

  @Get()
  @RequireRole('config:read')
  @ApiOperation({ summary: 'dedup-worker config in the original shape (has_api_key, updated_at)' })
  get(@Res({ passthrough: true }) res: Response): FacadeConfig {
    const state = this.reads.current(SERVICE);
    res.setHeader('ETag', versionEtag(state.version));
    return toFacade(state);
  }

  @Patch()
  @RequireRole('config:write')
  @ApiOperation({
    summary: 'Partial update in the original shape; write-only ai_api_key ("" clears)',
  })
  @ApiBody({ schema: { type: 'object', example: { thresholds: { high: 0.8 }, ai_api_key: '…' } } })
  async patch(
    @Body() body: unknown,
    @WriteContext() context: ChangeContext,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FacadeConfig> {
    const { [API_KEY_FIELD]: apiKey, ...sections } = requireObject(body);
    // The route needs config:write; the key inside it needs secrets:write as well.
    const secret = apiKey === undefined ? undefined : requireSecretValue(apiKey, API_KEY_FIELD);
    if (secret !== undefined) assertRole(principal, 'secrets:write', `Setting ${API_KEY_FIELD}`);
    const definition = this.reads.definition(SERVICE);
    const hasSections = Object.keys(sections).length > 0;
    const result = await this.writes.change(SERVICE, {
      ...context,
      // The original clients know nothing of staging: the façade always publishes.
      publish: 'now',
      kind: hasSections ? 'update' : 'secret',
      config: hasSections
        ? (current) => deepMerge(current, sections, { mapPaths: definition.mapPaths })
        : undefined,
      secrets: secret === undefined ? undefined : { [API_KEY_PATH]: secret },
    });
    res.setHeader('ETag', versionEtag(result.state.version));
    res.setHeader('X-Config-Published', String(result.published));
    return toFacade(result.state);
  }
}

function toFacade(state: ConfigState): FacadeConfig {
  return {
    ...state.config,
    has_api_key: state.secrets[API_KEY_PATH]?.set ?? false,
    // The original service reported null until someone saved a change.
    updated_at: state.kind === 'initial' ? null : state.updatedAt,
  };
}
