/** Every way an AI request can fail; each is counted separately in the run's report. */
export enum AiFailureKind {
  /** No answer within the timeout. */
  Timeout = 'timeout',
  /** HTTP 429: quota or rate limit reached. */
  RateLimited = 'rate_limited',
  /** HTTP 5xx: the provider failed. */
  ServerError = 'server_error',
  /** Any other non-2xx status (bad key, bad model name, bad request). */
  HttpError = 'http_error',
  /** The request never got an HTTP answer (DNS, refused, reset). */
  NetworkError = 'network_error',
  /** An answer that is not JSON, or not `{ same_event, confidence, reason }`. */
  InvalidResponse = 'invalid_response',
  /** Anything else: a bug, reported rather than thrown so the run still completes. */
  Unexpected = 'unexpected',
}

/** Every failure kind, in report order. */
export const AI_FAILURE_KINDS: readonly AiFailureKind[] = Object.values(AiFailureKind);

/** A zero count for every failure kind. */
export function emptyFailureCounts(): Record<AiFailureKind, number> {
  return Object.fromEntries(AI_FAILURE_KINDS.map((kind) => [kind, 0])) as Record<
    AiFailureKind,
    number
  >;
}

/** Tokens a request consumed, as the provider reported them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** A failed AI request; its message never contains the API key. */
export class AiRequestError extends Error {
  constructor(
    readonly kind: AiFailureKind,
    message: string,
    /** Tokens billed even though the answer was unusable (a malformed answer still costs). */
    readonly usage?: TokenUsage,
  ) {
    super(message);
    this.name = 'AiRequestError';
  }
}

/** Replaces every occurrence of the secret in a text, for messages built from foreign input. */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret === undefined || secret === '' ? text : text.split(secret).join('[redacted]');
}
