import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { DatabaseService } from '../database/database.service';

/** Set on every response while the database is unavailable (a cold start, an outage). */
export const READ_ONLY_HEADER = 'X-Read-Only';

/**
 * Express middleware: marks a response `X-Read-Only: true` while the database is unavailable,
 * decided as its headers are written (after the handler ran, because a write may be what
 * discovers that the database is back). A middleware rather than a Nest interceptor: a global
 * interceptor made Nest bind an AsyncResource and build an Observable on every request, 8% of
 * the read path's CPU (issue 18's profile).
 */
export function readOnlyHeader(db: DatabaseService): RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    // Every response passes here: an explicit writeHead, or the implicit one of the first write.
    res.writeHead = ((...args: unknown[]) => {
      if (!db.isAvailable() && !res.headersSent) res.setHeader(READ_ONLY_HEADER, 'true');
      return writeHead(...args);
    }) as typeof res.writeHead;
    next();
  };
}
