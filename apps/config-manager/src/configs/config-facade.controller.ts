import { Body, Controller, Get, Patch, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { codePointLength, deepMerge, MAX_SECRET_LENGTH } from '@app/contracts';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/roles';
import { versionEtag } from '../common/change-headers';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { ConfigState } from './config-state';
import { ChangeContext, ConfigsService } from './configs.service';
import { WriteContext } from './write-context.decorator';

const SERVICE = 'dedup-worker';
const API_KEY_PATH = 'ai.api_key';
const API_KEY_FIELD = 'ai_api_key';

/** The original event-dedup service's shape: sections at top level, key write-only. */
type FacadeConfig = Record<string, unknown> & { has_api_key: boolean; updated_at: string | null };

/**
 * Compatibility façade for the event-dedup service's existing clients: `dedup-worker`'s config
 * in their original shape, on top of the same versioned store.
 */
@ApiTags('compatibility')
@ApiBearerAuth()
@Controller('config')
export class ConfigFacadeController {
  constructor(private readonly configs: ConfigsService) {}

  @Get()
  @RequireRole('config:read')
  @ApiOperation({ summary: 'dedup-worker config in the original shape (has_api_key, updated_at)' })
  get(@Res({ passthrough: true }) res: Response): FacadeConfig {
    const state = this.configs.current(SERVICE);
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
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'Request body must be a JSON object', [
        { path: '', message: 'request body must be a JSON object' },
      ]);
    }
    const { [API_KEY_FIELD]: apiKey, ...sections } = body as Record<string, unknown>;
    if (apiKey !== undefined) {
      if (typeof apiKey !== 'string' || codePointLength(apiKey) > MAX_SECRET_LENGTH) {
        throw new DomainError(
          ErrorCode.ValidationFailed,
          `${API_KEY_FIELD} must be a string of at most ${MAX_SECRET_LENGTH} characters`,
          [
            {
              path: API_KEY_FIELD,
              message: `must be a string of at most ${MAX_SECRET_LENGTH} characters`,
            },
          ],
        );
      }
      if (!principal.roles.has('secrets:write')) {
        throw new DomainError(
          ErrorCode.Forbidden,
          `Setting ${API_KEY_FIELD} needs the "secrets:write" role`,
        );
      }
    }
    const definition = this.configs.definition(SERVICE);
    const hasSections = Object.keys(sections).length > 0;
    const result = await this.configs.change(SERVICE, {
      ...context,
      kind: hasSections ? 'update' : 'secret',
      config: hasSections
        ? (current) => deepMerge(current, sections, { mapPaths: definition.mapPaths })
        : undefined,
      secrets: apiKey === undefined ? undefined : { [API_KEY_PATH]: apiKey },
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
