import type { LoggerService } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import pino, { DestinationStream, Level, Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Settings } from '../settings/settings';
import { REDACTED, redactPaths } from './redaction';
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
  private readonly requestLogger = new AsyncLocalStorage<Logger>();

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
   * returns it as a response header, logs the request when it completes (never the bodies) and
   * makes every log line written while handling it carry the id.
   */
  httpMiddleware(): RequestHandler {
    const http = pinoHttp({
      logger: this.root,
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'requestId' },
      // The status is what matters; response headers would repeat the same policy every line.
      serializers: { res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
      genReqId: (req, res) => {
        const id = resolveRequestId(req.headers[REQUEST_ID_HEADER.toLowerCase()]);
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      customLogLevel: (req, res: ServerResponse, error) => {
        if (error || res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '') ? 'debug' : 'info';
      },
    });
    return (req: Request, res: Response, next: NextFunction) => {
      http(req, res);
      this.requestLogger.run(req.log, next);
    };
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
    const logger = this.requestLogger.getStore() ?? this.root;
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
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
