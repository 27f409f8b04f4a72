/** Every way the matching core can refuse its input; callers map codes, never messages. */
export enum MatchingErrorCode {
  /** A batch file is not valid JSON of the expected shape; `field` names the first bad field. */
  InvalidBatch = 'INVALID_BATCH',
}

/** A refusal of the matching core; its message names the file and field, never an event's content. */
export class MatchingError extends Error {
  constructor(
    readonly code: MatchingErrorCode,
    message: string,
    /** The file the input came from. */
    readonly fileName: string,
    /** Path of the first bad field, such as `events[3].start`. */
    readonly field: string,
  ) {
    super(message);
    this.name = 'MatchingError';
  }
}
