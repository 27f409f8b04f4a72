import type { LoggerService } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { DestinationStream, Level, Logger } from 'pino';
import type { Settings } from '../settings/settings';
import { REDACTED, redactPaths, redactUrl } from './redaction';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id';

const PINO_LEVELS: Record<Settings['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Probes polled by orchestrators and scrapers: logged at debug so they do not drown the rest. */
const QUIET_PATHS = new Set(['/health', '/health/ready', '/metrics']);

/**
 * The manager's logger: one pino instance per application (JSON lines, redacted), used both as
 * Nest's logger and by the HTTP request log. Inside a request every line carries its
 * `requestId`, because the request's child logger is kept in async-local storage.
 *
 * Not nestjs-pino's LoggerModule: it keeps one pino-http instance per process, so a second
 * application in the same process (tests, replicas) would log to the first one's destination.
 */
export class AppLogger implements LoggerService {
  private readonly requestIds = new AsyncLocalStorage<string>();

  constructor(private readonly root: Logger) {}

  /** A logger for the settings; `destination` defaults to stdout (tests pass a capture). */
  static create(settings: Settings, destination?: DestinationStream): AppLogger {
    const options: pino.LoggerOptions = {
      level: PINO_LEVELS[settings.logLevel],
      redact: { paths: redactPaths(), censor: REDACTED },
      base: { app: 'config-manager', env: settings.appEnv },
    };
    return new AppLogger(destination ? pino(options, destination) : pino(options));
  }

  /**
   * Express middleware: assigns the request id (a valid incoming `X-Request-Id`, or a new one),
   * returns it as a response header, logs one line when the request ends (method, URL with
   * secret query values redacted, status, duration; never headers or bodies) and makes every
   * log line written while handling it carry the id. Deliberately lean: it runs on every
   * request, so no child logger is built per request.
   */
  httpMiddleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const started = process.hrtime.bigint();
      const requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER.toLowerCase()]);
      (req as Request & { id?: string }).id = requestId;
      res.setHeader(REQUEST_ID_HEADER, requestId);
      res.once('close', () => this.logRequest(req, res, requestId, started));
      this.requestIds.run(requestId, next);
    };
  }

  private logRequest(req: Request, res: Response, requestId: string, started: bigint): void {
    const aborted = !res.writableFinished;
    const level: Level =
      aborted || res.statusCode >= 500
        ? 'error'
        : res.statusCode >= 400
          ? 'warn'
          : QUIET_PATHS.has(req.path)
            ? 'debug'
            : 'info';
    if (!this.root.isLevelEnabled(level)) return;
    this.root[level](
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

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes `(message, ...extra, context?)`, and for errors `(message, stack?, context?)`. */
  private write(level: Level, message: unknown, params: unknown[]): void {
    const logger = this.root;
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const requestId = this.requestIds.getStore();
    const fields: Record<string, unknown> = {
      ...(requestId ? { requestId } : {}),
      ...(context ? { context } : {}),
    };
    if (level === 'error' && typeof rest[0] === 'string') fields.stack = rest.shift();
    if (rest.length > 0) fields.params = rest;
    if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      logger[level](fields, String(message));
    }
  }
}
