// Logging shared by config-manager and dedup-worker: AppLogger (Nest's logger over pino, JSON
// lines or readable lines, one set of redaction paths), LOG_LEVEL / LOG_FORMAT for environment
// classes, and URL redaction. A lib rather than part of @app/contracts because AppLogger is a
// Nest LoggerService and needs pino; the apps' HTTP-only pieces (request log middleware,
// request ids) stay in config-manager.
export * from './app-logger';
export * from './logging.environment';
export { formatPrettyLine, prettyLogStream } from './pretty-log-stream';
export * from './redaction';
