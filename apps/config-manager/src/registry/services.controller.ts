import { Body, Controller, Delete, Get, Param, Put, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type {
  SchemaVersionDetail,
  SchemaVersionSummary,
  ServiceRegistration,
} from '@app/contracts';
import type { Response } from 'express';
import { RequireRole } from '../auth/auth.decorators';
import { CHANGE_REASON_HEADER, versionEtag } from '../common/change-headers';
import { RawParam } from '../common/decimal-integer';
import { type ChangeContext, WriteContext } from '../common/write-context';
import { ParseSchemaVersionPipe } from '../configs/parse-version.pipe';
import {
  type RegistrationResult,
  ServiceRegistrationService,
} from './service-registration.service';

/** The registration API: services registered at runtime, their schema history, archiving. */
@ApiTags('services')
@ApiBearerAuth()
@Controller('services')
export class ServicesController {
  constructor(private readonly registrations: ServiceRegistrationService) {}

  @Put(':service')
  @RequireRole('admin')
  @ApiOperation({
    summary:
      'Register a service, change its schema (409 with the failing paths unless "config" is given) or restore it; 201 when new',
  })
  @ApiHeader(CHANGE_REASON_HEADER)
  @ApiBody({
    schema: {
      type: 'object',
      required: ['schema'],
      properties: {
        description: { type: 'string', maxLength: 500 },
        schema: { type: 'object', description: 'JSON Schema draft 2020-12 (docs/services.md)' },
        recipientKey: { type: 'string', nullable: true, description: 'X25519 public key, base64' },
        config: { type: 'object', description: 'the config to move to under the new schema' },
      },
    },
  })
  async register(
    @Param('service') service: string,
    @Body() body: unknown,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ServiceRegistration> {
    const result = await this.registrations.register(service, body, context);
    res.status(result.registration.created ? 201 : 200);
    return this.respond(result, res);
  }

  @Delete(':service')
  @RequireRole('admin')
  @ApiOperation({
    summary: 'Archive a service: history kept, topic cleared with a signed tombstone',
  })
  @ApiHeader(CHANGE_REASON_HEADER)
  async archive(
    @Param('service') service: string,
    @WriteContext() context: ChangeContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ServiceRegistration> {
    return this.respond(await this.registrations.archive(service, context), res);
  }

  @Get(':service/schemas')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'Schema versions, newest first (who, when, why, hash)' })
  schemas(@Param('service') service: string): Promise<SchemaVersionSummary[]> {
    return this.registrations.schemas(service);
  }

  @Get(':service/schemas/:schemaVersion')
  @RequireRole('config:read')
  @ApiOperation({ summary: 'One schema version with its JSON Schema' })
  @ApiParam({ name: 'schemaVersion', schema: { type: 'integer', minimum: 1 } })
  schema(
    @Param('service') service: string,
    @RawParam('schemaVersion', ParseSchemaVersionPipe) schemaVersion: number,
  ): Promise<SchemaVersionDetail> {
    return this.registrations.schema(service, schemaVersion);
  }

  private respond(result: RegistrationResult, res: Response): ServiceRegistration {
    res.setHeader('ETag', versionEtag(result.registration.version));
    res.setHeader('X-Config-Published', String(result.published));
    return result.registration;
  }
}
