import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { Role } from '@app/contracts';
import type { Principal } from './roles';

export const REQUIRED_ROLE = 'auth:requiredRole';
export const PUBLIC_ROUTE = 'auth:public';

/** The role a route needs. Routes with neither this nor @Public() need `admin`. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** Marker for routes any valid token may call, whatever its roles (`GET /api/me`). */
export const ANY_ROLE = 'any';

/** A route that needs a valid token but no particular role. */
export const Authenticated = () => SetMetadata(REQUIRED_ROLE, ANY_ROLE);

/** A route anyone may call (health, keys, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Request with the authenticated caller attached by AuthGuard. */
export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
    return principal;
  },
);
