import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Level } from 'pino';
import { type AppLogger, redactUrl } from '@app/logging';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id';

/** Probes polled by orchestrators and scrapers: logged at debug so they do not drown the rest. */
const QUIET_PATHS = new Set(['/health', '/health/ready', '/metrics']);

/**
 * Express middleware: assigns the request id (a valid incoming `X-Request-Id`, or a new one),
 * returns it as a response header, logs one line when the request ends (method, URL with
 * secret query values redacted, status, duration; never headers or bodies) and makes every
 * log line written while handling it carry the id. Deliberately lean: it runs on every
 * request, so no child logger is built per request.
 */
export function httpRequestLog(logger: AppLogger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER.toLowerCase()]);
    (req as Request & { id?: string }).id = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.once('close', () => logRequest(logger, req, res, requestId, started));
    logger.withRequestId(requestId, next);
  };
}

function logRequest(
  logger: AppLogger,
  req: Request,
  res: Response,
  requestId: string,
  started: bigint,
): void {
  const aborted = !res.writableFinished;
  const level: Level =
    aborted || res.statusCode >= 500
      ? 'error'
      : res.statusCode >= 400
        ? 'warn'
        : QUIET_PATHS.has(req.path)
          ? 'debug'
          : 'info';
  if (!logger.pino.isLevelEnabled(level)) return;
  logger.pino[level](
    {
      requestId,
      req: { method: req.method, url: redactUrl(req.originalUrl), remoteAddress: req.ip },
      res: { statusCode: res.statusCode },
      responseTime: Number(process.hrtime.bigint() - started) / 1e6,
      ...(aborted ? { aborted: true } : {}),
    },
    aborted ? 'request aborted' : 'request completed',
  );
}
