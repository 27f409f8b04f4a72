/**
 * Where the config client reports what happened. Nest's `Logger` fits as is. Messages never
 * contain secret values, keys or configuration values, so any sink is safe.
 */
export interface ConfigClientLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Routine events nobody needs to act on (a candidate for other instances); optional. */
  debug?(message: string): void;
}

/** A logger that drops everything: the default outside Nest, so a library never writes to the console on its own. */
export const SILENT_LOGGER: ConfigClientLogger = Object.freeze({
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});
