import { codePointLength, isPlainObject, MAX_SECRET_LENGTH } from '@app/contracts';
import { DomainError, ErrorCode } from './domain-error';

/** A JSON request body that must be an object (PATCH and PUT of a config, the façade). */
export function requireObject(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) {
    throw new DomainError(ErrorCode.ValidationFailed, 'Request body must be a JSON object', [
      { path: '', message: 'request body must be a JSON object' },
    ]);
  }
  return body;
}

/**
 * A secret's new value: a string of at most MAX_SECRET_LENGTH characters (code points); `field`
 * names it in the error (`value`, or the façade's `ai_api_key`). The value is never echoed.
 */
export function requireSecretValue(value: unknown, field: string): string {
  if (typeof value !== 'string' || codePointLength(value) > MAX_SECRET_LENGTH) {
    const message = `${field} must be a string of at most ${MAX_SECRET_LENGTH} characters`;
    throw new DomainError(ErrorCode.ValidationFailed, message, [{ path: field, message }]);
  }
  return value;
}
