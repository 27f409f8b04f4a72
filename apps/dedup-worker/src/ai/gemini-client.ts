import { AiFailureKind, AiRequestError, redactSecret, type TokenUsage } from './ai.error';

/** Public endpoint of the Gemini API. */
export const DEFAULT_GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';
/** How long one request may take before it is abandoned. */
export const DEFAULT_GEMINI_TIMEOUT_MS = 15_000;
// Enough of a provider's error text to act on, short enough to keep logs readable.
const MAX_DETAIL_LENGTH = 200;

/** Sampling settings for one request. */
export interface GenerationOptions {
  temperature: number;
  maxOutputTokens: number;
}

/** The model's text answer and the tokens it cost. */
export interface ModelReply {
  text: string;
  usage: TokenUsage;
}

/** Anything that can send a prompt to a model; the matcher depends on this, not on Gemini. */
export interface AiModelClient {
  generate(prompt: string, options: GenerationOptions): Promise<ModelReply>;
}

/** Connection settings of a Gemini client. */
export interface GeminiClientOptions {
  apiKey: string;
  model: string;
  baseUrl?: string;
  timeoutMs?: number;
}

/** Calls Gemini's generateContent REST endpoint and asks for a JSON answer. */
export class GeminiClient implements AiModelClient {
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: GeminiClientOptions) {
    const baseUrl = (options.baseUrl ?? DEFAULT_GEMINI_BASE_URL).replace(/\/+$/, '');
    this.url = `${baseUrl}/v1beta/models/${encodeURIComponent(options.model)}:generateContent`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_GEMINI_TIMEOUT_MS;
  }

  /** Sends one prompt; throws AiRequestError (never naming the key) on any failure. */
  async generate(prompt: string, options: GenerationOptions): Promise<ModelReply> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        // The key travels in a header, never in the URL, so it cannot leak through URLs in errors.
        headers: { 'content-type': 'application/json', 'x-goog-api-key': this.options.apiKey },
        body: JSON.stringify({
          contents: [{ role: 'user', parts: [{ text: prompt }] }],
          generationConfig: {
            temperature: options.temperature,
            maxOutputTokens: options.maxOutputTokens,
            responseMimeType: 'application/json',
          },
        }),
        signal: controller.signal,
      });
      const body = await response.text();
      if (!response.ok) {
        throw this.httpError(response.status, body);
      }
      return this.parseReply(body);
    } catch (error: unknown) {
      if (error instanceof AiRequestError) {
        throw error;
      }
      if (controller.signal.aborted) {
        throw new AiRequestError(
          AiFailureKind.Timeout,
          `Gemini did not answer within ${this.timeoutMs} ms`,
        );
      }
      throw new AiRequestError(
        AiFailureKind.NetworkError,
        `Gemini could not be reached: ${this.redact(describeNetworkError(error))}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private httpError(status: number, body: string): AiRequestError {
    const detail = this.redact(providerMessage(body)).slice(0, MAX_DETAIL_LENGTH);
    const suffix = detail === '' ? '' : `: ${detail}`;
    if (status === 429) {
      return new AiRequestError(
        AiFailureKind.RateLimited,
        `Gemini rate limit reached (HTTP 429)${suffix}`,
      );
    }
    if (status >= 500) {
      return new AiRequestError(
        AiFailureKind.ServerError,
        `Gemini failed (HTTP ${status})${suffix}`,
      );
    }
    return new AiRequestError(
      AiFailureKind.HttpError,
      `Gemini refused the request (HTTP ${status})${suffix}`,
    );
  }

  private parseReply(body: string): ModelReply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new AiRequestError(
        AiFailureKind.InvalidResponse,
        'Gemini answered with a body that is not JSON',
      );
    }
    const usage = readUsage(parsed);
    const text = readText(parsed);
    if (text === undefined) {
      throw new AiRequestError(
        AiFailureKind.InvalidResponse,
        'Gemini answered without candidates[0].content.parts[0].text',
        usage,
      );
    }
    return { text, usage };
  }

  private redact(text: string): string {
    return redactSecret(text, this.options.apiKey);
  }
}

function readText(body: unknown): string | undefined {
  const candidates = field(body, 'candidates');
  const first = Array.isArray(candidates) ? (candidates[0] as unknown) : undefined;
  const parts = field(field(first, 'content'), 'parts');
  if (!Array.isArray(parts)) {
    return undefined;
  }
  // Thinking models may put their reasoning first, flagged `thought`; the answer is the first plain text part.
  for (const part of parts as unknown[]) {
    const text = field(part, 'text');
    if (typeof text === 'string' && field(part, 'thought') !== true) {
      return text;
    }
  }
  return undefined;
}

function readUsage(body: unknown): TokenUsage {
  const usage = field(body, 'usageMetadata');
  const count = (name: string): number => {
    const value = field(usage, name);
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
  };
  // Thinking tokens are billed at the output price, so they count as output.
  return {
    inputTokens: count('promptTokenCount'),
    outputTokens: count('candidatesTokenCount') + count('thoughtsTokenCount'),
  };
}

function providerMessage(body: string): string {
  try {
    const message = field(field(JSON.parse(body) as unknown, 'error'), 'message');
    return typeof message === 'string' ? message : '';
  } catch {
    return '';
  }
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  // fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
