import { Logger as NestLogger, type LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { type EnvironmentVariables, parseEnvironment } from '@app/contracts';
import { type LoggingSettings, LoggingEnvironment, type LogLevel } from './logging.environment';
import { prettyLogStream } from './pretty-log-stream';
import { REDACTED, redactPaths } from './redaction';

const PINO_LEVELS: Record<LogLevel, Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * The logger of every application (config-manager, dedup-worker): one pino instance, used as
 * Nest's logger (`Logger` per class, named after it, as usual). The same redaction paths in
 * both formats: pino censors before it serialises, and the pretty format is written from the
 * serialised line. Inside `withRequestId()` every line carries the request's `requestId`
 * (async-local storage: no child logger per request).
 *
 * Not nestjs-pino's LoggerModule: it keeps one pino-http instance per process, so a second
 * application in the same process (tests, replicas) would log to the first one's destination.
 */
export class AppLogger implements LoggerService {
  private readonly requestIds = new AsyncLocalStorage<string>();

  /** `pino`: the underlying logger, for structured lines (the manager's HTTP request log). */
  constructor(readonly pino: Logger) {}

  /** A logger for the settings; `destination` defaults to stdout (tests pass a capture). */
  static create(settings: LoggingSettings, destination?: DestinationStream): AppLogger {
    const options: pino.LoggerOptions = {
      level: PINO_LEVELS[settings.level],
      redact: { paths: redactPaths(), censor: REDACTED },
      base: { app: settings.app, env: settings.env },
    };
    if (settings.format === 'pretty') {
      // Synchronous: a person reads it as it happens, and a crash loses no line.
      const sink = destination ?? pino.destination({ dest: 1, sync: true });
      return new AppLogger(pino(options, prettyLogStream(sink)));
    }
    return new AppLogger(destination ? pino(options, destination) : pino(options));
  }

  /** Runs `next` so that every line logged while it runs (async work included) has `requestId`. */
  withRequestId<T>(requestId: string, next: () => T): T {
    return this.requestIds.run(requestId, next);
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
    const logger = this.pino;
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const requestId = this.requestIds.getStore();
    const fields: Record<string, unknown> = {
      ...(requestId ? { requestId } : {}),
      ...(context ? { context } : {}),
    };
    if (level === 'error' && (typeof rest[0] === 'string' || rest[0] === undefined)) {
      // Nest's Logger passes an undefined stack when it has none.
      const stack = rest.shift();
      if (stack !== undefined) fields.stack = stack;
    }
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

/**
 * The logger for start-up, before the program's settings exist (their warnings, a failure to
 * start): LOG_LEVEL and LOG_FORMAT (default by NODE_ENV) read leniently, a refused value
 * falling back to its default; the program's settings then report it.
 */
export function bootLogger(app: string, env: EnvironmentVariables): AppLogger {
  const { values } = parseEnvironment(LoggingEnvironment, env);
  return AppLogger.create({
    app,
    env: values.NODE_ENV,
    level: values.LOG_LEVEL,
    format: values.LOG_FORMAT,
  });
}

/**
 * Logs why `app` could not start, as the Bootstrap context, and exits 1. A `known` failure (an
 * environment variable or a file to fix) is its message alone; anything else keeps its stack.
 */
export function exitOnStartFailure(app: string, error: unknown, known: boolean): never {
  const message =
    error instanceof Error
      ? known
        ? error.message
        : (error.stack ?? error.message)
      : String(error);
  new NestLogger('Bootstrap').error(`${app} failed to start: ${message}`);
  process.exit(1);
}
