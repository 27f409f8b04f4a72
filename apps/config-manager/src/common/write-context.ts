import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { type PublishMode, parseIfMatch, parsePublish, parseReason } from './change-headers';

/** Who is changing something, why, and against which version they read. */
export interface ChangeContext {
  actor: string;
  reason?: string;
  /** From If-Match: the version the client last saw; a different current version is a 412. */
  ifMatch?: number;
  /** From X-Publish: `staged` creates the version without publishing it (docs/rollouts.md). */
  publish?: PublishMode;
}

/**
 * The context of a write: the authenticated actor, `If-Match` (the version the client read),
 * `X-Change-Reason` and `X-Publish`, parsed and validated once for every write endpoint.
 */
export const WriteContext = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ChangeContext => {
    const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!request.principal) throw new Error('WriteContext used on a route without authentication');
    return {
      actor: request.principal.name,
      ifMatch: parseIfMatch(request.header('if-match')),
      reason: parseReason(request.header('x-change-reason')),
      publish: parsePublish(request.header('x-publish')),
    };
  },
);
