import { EnvEnum, EnvDefault, EnvNodeEnv, type NodeEnv } from '@app/contracts';

/** Log levels, named as Nest names them (LOG_LEVEL). */
export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How lines are written (LOG_FORMAT): JSON lines for machines, or lines for a person. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What an application's logger is built from. */
export interface LoggingSettings {
  /** The program, in every JSON line (`app`). */
  readonly app: string;
  /** Its environment, in every JSON line (`env`): APP_ENV for the manager, NODE_ENV for a worker. */
  readonly env: string;
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/**
 * LOG_FORMAT when unset: readable lines in development (what `npm start` shows), JSON lines in
 * production and in test, where harnesses and log shippers parse them.
 */
export function defaultLogFormat(nodeEnv: NodeEnv): LogFormat {
  return nodeEnv === 'development' ? 'pretty' : 'json';
}

/** LOG_LEVEL of an environment class: one of LOG_LEVELS (give the default as initializer). */
export function EnvLogLevel(): PropertyDecorator {
  return EnvEnum(LOG_LEVELS);
}

/** LOG_FORMAT of an environment class: json or pretty, by default defaultLogFormat(NODE_ENV). */
export function EnvLogFormat(): PropertyDecorator {
  return (prototype, property) => {
    EnvEnum(LOG_FORMATS)(prototype, property);
    EnvDefault((ctx) => defaultLogFormat(ctx.nodeEnv))(prototype, property);
  };
}

/** The logging variables alone, read leniently by bootLogger() before a program's settings exist. */
export class LoggingEnvironment {
  @EnvNodeEnv() NODE_ENV: NodeEnv = 'development';
  @EnvLogLevel() LOG_LEVEL: LogLevel = 'log';
  @EnvLogFormat() LOG_FORMAT!: LogFormat;
}
