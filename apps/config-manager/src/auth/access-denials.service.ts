import { Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '../audit/audit.service';
import { DatabaseService } from '../database/database.service';
import { MetricsService, routeTemplateOf } from '../metrics/metrics.service';
import type { ForbiddenError } from './roles';

/** At most one audit row per token and route in this window; the rest are counted into the next. */
export const ACCESS_DENIED_AUDIT_INTERVAL_MS = 60_000;
/** Audit `kind` of a refused request. */
export const ACCESS_DENIED_KIND = 'access.denied';
/** The token label of a 401: no token, or one the manager does not know (its name is not known). */
export const UNKNOWN_TOKEN = '(unknown)';

const SERVICE_PARAM = /^[a-z][a-z0-9-]{1,62}$/;

interface Window {
  /** When the last row for this token and route was written. */
  at: number;
  /** Denials since then that wrote no row. */
  suppressed: number;
}

/**
 * One audit row per key (token and route) per interval: `admit` says whether a denial writes a
 * row, and how many were suppressed since the last one. Keys are configured token names times
 * route templates, so the map stays bounded.
 */
export class AuditWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly intervalMs = ACCESS_DENIED_AUDIT_INTERVAL_MS) {}

  /** `{ suppressed }` when this denial writes a row; undefined when it is only counted. */
  admit(key: string, now: number): { suppressed: number } | undefined {
    const window = this.windows.get(key);
    if (window && now - window.at < this.intervalMs) {
      window.suppressed++;
      return undefined;
    }
    this.windows.set(key, { at: now, suppressed: 0 });
    return { suppressed: window?.suppressed ?? 0 };
  }

  /** The row was not written: the next denial writes one, counting this one as suppressed. */
  failed(key: string, suppressed: number): void {
    this.windows.set(key, { at: Number.NEGATIVE_INFINITY, suppressed: suppressed + 1 });
  }
}

/**
 * Makes access violations visible: every 401 and 403 is counted in /metrics by status, route
 * template and token name (bounded labels: templates and configured names, never a raw URL or
 * a token), and a 403 of a known token writes an audit row (`access.denied`: route, method,
 * token name and the role it lacks), at most one per token and route a minute, the next row
 * saying how many were not written. A 401 writes none: an unknown caller has no name to audit,
 * and a flood of them must not fill the log.
 */
@Injectable()
export class AccessDenialsService {
  private readonly logger = new Logger(AccessDenialsService.name);
  private readonly windows = new AuditWindows();

  constructor(
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly db: DatabaseService,
  ) {}

  /** A request was refused 401 (no or an unknown token). */
  unauthenticated(req: Request): void {
    this.metrics.accessDenied(401, routeTemplateOf(req), UNKNOWN_TOKEN);
  }

  /** A request of a known token was refused 403. */
  forbidden(req: Request, error: ForbiddenError): void {
    const route = routeTemplateOf(req);
    this.metrics.accessDenied(403, route, error.tokenName);
    const id = `${error.tokenName}\u0000${route}`;
    const now = Date.now();
    const admitted = this.windows.admit(id, now);
    if (!admitted) return;
    const { suppressed } = admitted;
    const service = (req.params as Record<string, unknown> | undefined)?.service;
    const reason =
      `${req.method} ${route} needs the "${error.requiredRole}" role, which token "${error.tokenName}" lacks` +
      (suppressed > 0
        ? `; ${suppressed} more on this route since the last entry were not recorded`
        : '');
    void this.db
      .transaction((m) =>
        this.audit.record(m, {
          at: new Date(now).toISOString(),
          actor: error.tokenName.slice(0, 100),
          service: typeof service === 'string' && SERVICE_PARAM.test(service) ? service : '',
          kind: ACCESS_DENIED_KIND,
          versionBefore: null,
          versionAfter: null,
          reason: reason.slice(0, 500),
          changes: [],
        }),
      )
      .catch((e: unknown) => {
        // Counted still; the row is lost with the database (logged), its count carried over.
        this.windows.failed(id, suppressed);
        this.logger.warn(
          `Could not audit a refused request (${reason}): ${e instanceof Error ? e.message : String(e)}`,
        );
      });
  }
}
