import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '../common/domain-error';
import { ANY_ROLE, AuthenticatedRequest, PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import { bearerTokenOf } from './bearer-token';
import { assertRole } from './roles';
import type { Role } from '@app/contracts';
import { TokenRegistryService } from './token-registry.service';

/** Bearer-token authentication and role check for every route (401 vs 403). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenRegistryService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const required =
      this.reflector.getAllAndOverride<Role | typeof ANY_ROLE>(REQUIRED_ROLE, targets) ?? 'admin';

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerTokenOf(request.headers.authorization);
    const principal = token === undefined ? undefined : this.tokens.authenticate(token);
    if (!principal) {
      throw new DomainError(
        ErrorCode.Unauthenticated,
        token === undefined
          ? 'Missing "Authorization: Bearer <token>" header'
          : 'The bearer token is not valid',
      );
    }
    if (required !== ANY_ROLE) assertRole(principal, required);
    request.principal = principal;
    return true;
  }
}
