/** Every way the config client can be misconfigured or misused; callers map codes, never messages. */
export enum ConfigClientErrorCode {
  /** A constructor option is missing or invalid; `option` names it. */
  InvalidOption = 'INVALID_OPTION',
  /** One or more environment variables are missing or invalid; `problems` lists each. */
  InvalidEnvironment = 'INVALID_ENVIRONMENT',
  /** A run was begun before `start()` finished. */
  NotStarted = 'NOT_STARTED',
  /** start() was called on a client that was stopped (clients are not restartable). */
  Stopped = 'STOPPED',
  /** endRun() with a snapshot beginRun() did not return (or already ended), or an outcome that is not `{ ok: boolean }`. */
  InvalidRun = 'INVALID_RUN',
}

/** A misconfiguration or misuse of the config client; its message never contains a key or a secret. */
export class ConfigClientError extends Error {
  constructor(
    readonly code: ConfigClientErrorCode,
    message: string,
    /** The option or variables at fault, for programs that report them separately. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ConfigClientError';
  }
}
