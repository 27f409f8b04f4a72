import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header a request id arrives in and is returned in. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The caller's request id when it is safe to log and echo (at most 64 characters of
 * `[A-Za-z0-9._-]`), otherwise a fresh UUID: a crafted header must not forge log lines.
 */
export function resolveRequestId(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value !== undefined && VALID_REQUEST_ID.test(value) ? value : randomUUID();
}

/** The id assigned to a request by the HTTP logging middleware (undefined before it ran). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  const id = (req as IncomingMessage & { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}
