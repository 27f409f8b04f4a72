import { ExecutionContext, Injectable } from '@nestjs/common';
import {
  SkipThrottle,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { sha256Hex } from '@app/crypto';
import { bearerTokenOf } from '../auth/bearer-token';
import { FixedWindowThrottlerStorage } from './fixed-window-throttler.storage';

/** The bucket per client IP: the library's default name, so its headers carry no suffix. */
const CLIENT_BUCKET = 'default';
/** The bucket per bearer token (by its hash), for requests that carry one. */
const TOKEN_BUCKET = 'token';
const WINDOW_MS = 60_000;

const authorizationOf = (req: Request): string | undefined => req.headers.authorization;

/**
 * Rate limits for /api: every request counts against its client IP (as Express resolves it with
 * TRUST_PROXY_HOPS) across all routes and, when it carries a bearer token, against that token
 * too. So rotating bogus tokens from one IP stays in the IP's bucket, and one token used from
 * many IPs is limited as well. The library's default key adds the controller and handler, which
 * would give a client the limit on every route separately.
 */
export function rateLimitOptions(perMinute: number): ThrottlerModuleOptions {
  return {
    throttlers: [
      // The library's default tracker: req.ip (IPv6 addresses grouped by their /64).
      { name: CLIENT_BUCKET, ttl: WINDOW_MS, limit: perMinute },
      {
        name: TOKEN_BUCKET,
        ttl: WINDOW_MS,
        limit: perMinute,
        // Retry-After is set by RateLimitGuard whichever bucket is full; no second header set.
        setHeaders: false,
        skipIf: (context) =>
          bearerTokenOf(authorizationOf(context.switchToHttp().getRequest<Request>())) ===
          undefined,
        // skipIf leaves only requests with a token; windows are keyed by its hash, never by it.
        getTracker: (req) => sha256Hex(bearerTokenOf(authorizationOf(req as Request)) ?? ''),
      },
    ],
    // One window per client or token across every route (the storage prefixes the bucket name).
    generateKey: (_context, tracker) => tracker,
    storage: new FixedWindowThrottlerStorage(),
    errorMessage: `Too many requests: at most ${perMinute} per minute per client; retry after the Retry-After seconds`,
  };
}

/** Exempts a controller or route from both buckets (health probes, metrics scrapes). */
export const SkipRateLimit = () => SkipThrottle({ [CLIENT_BUCKET]: true, [TOKEN_BUCKET]: true });

/** ThrottlerGuard that answers `Retry-After` for whichever bucket refused the request. */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const { res } = this.getRequestResponse(context);
    this.setResponseHeader(res, 'Retry-After', detail.timeToBlockExpire);
    await super.throwThrottlingException(context, detail);
  }
}
