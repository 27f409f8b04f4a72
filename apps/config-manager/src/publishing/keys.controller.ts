import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { PublishedSigningKey } from '@app/contracts';
import { Public } from '../auth/auth.decorators';
import { EnvelopeBuilderService } from './envelope-builder.service';

/** The public signing keys workers pin (no auth: they are public). */
@ApiTags('publishing')
@Controller('keys')
export class KeysController {
  constructor(private readonly envelopes: EnvelopeBuilderService) {}

  @Get()
  @Public()
  @ApiOperation({
    summary: 'Public Ed25519 keys that sign config envelopes (current first, then retired)',
  })
  keys(): { signing: PublishedSigningKey[] } {
    return { signing: this.envelopes.signingKeys() };
  }
}
