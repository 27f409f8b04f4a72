/** A scenario's check failed: the message says what was expected and what was seen. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

/** Throws CheckFailed with `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}
