import type { Role } from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';

// admin can do everything; a config writer must be able to read what it changes.
const IMPLIED: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin', 'config:read', 'config:write', 'secrets:write'],
  'config:write': ['config:write', 'config:read'],
  'config:read': ['config:read'],
  'secrets:write': ['secrets:write'],
};

/** Expands granted roles with the roles they imply. */
export function effectiveRoles(granted: readonly string[]): ReadonlySet<Role> {
  return new Set(granted.flatMap((r) => IMPLIED[r as Role] ?? []));
}

/** The caller of a request, as the guard authenticated it. */
export interface Principal {
  name: string;
  roles: ReadonlySet<Role>;
}

/** A 403: a known token lacks a role. Carries who and what, for the access-denied audit and metrics. */
export class ForbiddenError extends DomainError {
  constructor(
    readonly tokenName: string,
    readonly requiredRole: Role,
    what: string,
  ) {
    super(
      ErrorCode.Forbidden,
      `${what} needs the "${requiredRole}" role, which token "${tokenName}" lacks`,
    );
  }
}

/** Throws 403 unless `principal` has `role`; `what` says what needed it (the guard: "This"). */
export function assertRole(principal: Principal, role: Role, what = 'This'): void {
  if (!principal.roles.has(role)) throw new ForbiddenError(principal.name, role, what);
}
