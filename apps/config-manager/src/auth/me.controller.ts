import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from './auth.decorators';
import type { WhoAmI } from '@app/contracts';
import type { Principal } from './roles';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  @Get()
  @Authenticated()
  @ApiOperation({ summary: "The token's name and effective roles (any valid token)" })
  whoAmI(@CurrentPrincipal() principal: Principal): WhoAmI {
    return { name: principal.name, roles: [...principal.roles].sort() };
  }
}
