import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type {
  ChangeEntry,
  ConfigResponse,
  ServiceSchemaResponse,
  ServiceSummary,
  VersionSummary,
} from '@app/contracts';
import type { Response } from 'express';
import { RequireRole } from '../auth/auth.decorators';
import { CHANGE_REASON_HEADER, PUBLISH_HEADER, versionEtag } from '../common/change-headers';
import { setWriteHeaders } from './write-headers';
import { RawParam } from '../common/decimal-integer';
import { InstancesService } from '../instances/instances.service';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { type ChangeContext, WriteContext } from '../common/write-context';
import { ConfigPublisherService } from '../publishing/config-publisher.service';
import { configResponseText, secretFlags, toConfigResponse } from './config-response';
import { ConfigReadsService } from './config-reads.service';
import { type ChangeResult, ConfigWritesService } from './config-writes.service';
import { DiffQueryDto } from './dto/diff-query.dto';
import { RollbackDto } from './dto/rollback.dto';
import { ParseVersionPipe } from './parse-version.pipe';
import { ServiceCatalog } from './service-catalog';

const IF_MATCH = {
  name: 'If-Match',
  required: false,
  description: 'Version ETag, e.g. "12"; 412 when stale',
};

/** Services, their schemas, current config, history, diff and rollback. */
@ApiTags('configs')
@ApiBearerAuth()
@Controller('services')
export class ConfigsController {
  constructor(
    private readonly configs: ConfigReadsService,
    private readonly writes: ConfigWritesService,
    private readonly publisher: ConfigPublisherService,
    private readonly instances: InstancesService,
    private readonly catalog: ServiceCatalog,
  ) {}

  @Get()
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Services (archived ones too) with their current version' })
  list(): ServiceSummary[] {
    return this.configs.list().map((state) => {
      const entry = this.catalog.entry(state.service);
      return {
        service: state.service,
        description: entry.description,
        version: state.version,
        updatedAt: state.updatedAt,
        updatedBy: state.updatedBy,
        instances: this.instances.counts(state.service, state.version),
        ...this.catalog.summary(state.service),
      };
    });
  }

  @Get(':service/schema')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'JSON Schema of the service config, its secret paths and schemaHash' })
  schema(@Param('service') service: string): ServiceSchemaResponse {
    const { definition, schemaVersion } = this.catalog.entry(service);
    return {
      service: definition.name,
      schemaVersion,
      schemaHash: definition.schemaHash,
      secretPaths: definition.secretPaths,
      schema: definition.jsonSchema,
    };
  }

  @Get(':service/config')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Current config (secrets as set flags only); ETag is the version' })
  @ApiOkResponse({ description: 'The ConfigResponse as JSON (404 for an unknown service)' })
  get(@Param('service') service: string, @Res({ passthrough: true }) res: Response): string {
    const state = this.configs.current(service);
    res.setHeader('ETag', versionEtag(state.version));
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    // Sent as text serialised once per state (the hottest read; see configResponseText).
    return configResponseText(
      this.configs.definition(service),
      state,
      this.publisher.isPublished(state.service, state.version),
    );
  }

  @Patch(':service/config')
  @RequireRole('config:write')
  @ApiOperation({ summary: 'Deep-merge a partial config, validate the whole, create a version' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(CHANGE_REASON_HEADER)
  @ApiHeader(PUBLISH_HEADER)
  @ApiBody({ schema: { type: 'object', example: { thresholds: { high: 0.8 } } } })
  async patch(
    @Param('service') service: string,
    @Body() body: unknown,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ConfigResponse> {
    const result = await this.writes.patch(service, body, context);
    return this.respond(service, result, res);
  }

  @Put(':service/config')
  @RequireRole('config:write')
  @ApiOperation({ summary: 'Replace the whole config (omitted fields take schema defaults)' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(CHANGE_REASON_HEADER)
  @ApiHeader(PUBLISH_HEADER)
  @ApiBody({ schema: { type: 'object' } })
  async put(
    @Param('service') service: string,
    @Body() body: unknown,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ConfigResponse> {
    const result = await this.writes.replace(service, body, context);
    return this.respond(service, result, res);
  }

  @Get(':service/versions')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'History, newest first' })
  versions(
    @Param('service') service: string,
    @Query() query: PageQueryDto,
  ): Promise<VersionSummary[]> {
    return this.configs.history(service, query.limit, query.before);
  }

  @Get(':service/versions/:version')
  @RequireRole('config:read')
  @ApiOperation({ summary: "One version's config (secrets as set flags only)" })
  // Declared here: Swagger does not see parameters read by a custom decorator (@RawParam).
  @ApiParam({ name: 'version', schema: { type: 'integer', minimum: 1 } })
  async version(
    @Param('service') service: string,
    @RawParam('version', ParseVersionPipe) version: number,
  ) {
    const found = await this.configs.version(service, version);
    return {
      service: found.service,
      version: found.version,
      kind: found.kind,
      state: found.state,
      createdAt: found.createdAt,
      createdBy: found.createdBy,
      reason: found.reason,
      config: found.config,
      secrets: secretFlags(this.configs.definition(service), found.secrets),
    };
  }

  @Get(':service/diff')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Changed paths between two versions; secrets show only "changed"' })
  diff(@Param('service') service: string, @Query() query: DiffQueryDto): Promise<ChangeEntry[]> {
    return this.configs.diff(service, query.from, query.to);
  }

  @Post(':service/rollback')
  @HttpCode(200)
  @RequireRole('config:write')
  @ApiOperation({ summary: 'Create a new version with the config of an earlier one' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(CHANGE_REASON_HEADER)
  @ApiHeader(PUBLISH_HEADER)
  async rollback(
    @Param('service') service: string,
    @Body() body: RollbackDto,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ConfigResponse> {
    const result = await this.writes.rollback(service, body.toVersion, context);
    return this.respond(service, result, res);
  }

  /** The new state; a staged version's is not the current one, so it gets no ETag but X-Staged-Version. */
  private respond(service: string, result: ChangeResult, res: Response): ConfigResponse {
    setWriteHeaders(res, result);
    res.setHeader('X-Version-Created', String(result.created));
    return toConfigResponse(this.configs.definition(service), result.state, result.published);
  }
}
