import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from './auth.decorators';
import type { Principal, Role } from './roles';

/** Who the presented token is, so a client (the admin page) can show only what it may do. */
export interface WhoAmI {
  name: string;
  /** Effective roles, implied ones included (`admin` brings every other role). */
  roles: Role[];
}

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
