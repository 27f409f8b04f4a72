import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AiConfig } from '@app/contracts';
import { startMillis, type SourceEvent } from '../matching/event';
import { normaliseText } from '../matching/similarity';
import { AiDecisionCache, type AiVerdict } from './ai-decision-cache';
import {
  AI_FAILURE_KINDS,
  AiFailureKind,
  AiRequestError,
  emptyFailureCounts,
  redactSecret,
  type TokenUsage,
} from './ai.error';
import { GeminiClient, type AiModelClient } from './gemini-client';
import { buildMatchPrompt, parseMatchVerdict } from './match-prompt';
import { Semaphore } from './semaphore';

/** An ambiguous pair to put to the model, with its score for the fallback. */
export interface AiPair {
  left: SourceEvent;
  right: SourceEvent;
  score: number;
}

/** Who decided a pair: the model now, the model earlier (cache), or the score-based fallback. */
export type AiDecisionSource = 'ai' | 'cache' | 'fallback';

/** The decision for one pair. */
export interface AiDecision {
  sameEvent: boolean;
  decidedBy: AiDecisionSource;
  /** The model's confidence, when it answered (also when too low to be used). */
  confidence: number | null;
  reason: string | null;
  /** Why the pair fell back, when it did. */
  fallback: 'ai_unavailable' | 'low_confidence' | AiFailureKind | null;
}

/** Decisions in the order of the pairs, with what they cost. */
export interface AiDecisionReport {
  decisions: AiDecision[];
  /** Requests sent to the model (failed ones included). */
  calls: number;
  cacheHits: number;
  failures: Record<AiFailureKind, number>;
  /** Answers below confidence_threshold, which fell back. */
  lowConfidence: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Where log lines go; Nest's Logger fits. */
export interface AiLogger {
  warn(message: string): void;
}

/** Everything but the configuration that an AiMatcher may be given. */
export interface AiMatcherOptions {
  /** Kept by the caller across runs; without one, answers are cached for this matcher only. */
  cache?: AiDecisionCache;
  /** Replaces the Gemini client (tests, other providers). */
  client?: AiModelClient;
  baseUrl?: string;
  timeoutMs?: number;
  logger?: AiLogger;
}

/**
 * The decision when the model cannot be used for an ambiguous pair: not the same event. Merging
 * wrongly loses an event from the output, keeping two listings only shows a duplicate, so doubt
 * keeps them apart.
 */
export const FALLBACK_SAME_EVENT = false;

/** True when the configuration allows AI calls: enabled and a non-empty API key. */
export function isAiUsable(config: AiConfig): boolean {
  return config.enabled && typeof config.api_key === 'string' && config.api_key.trim() !== '';
}

type Outcome =
  | { verdict: AiVerdict; fromCache: boolean; usage: TokenUsage }
  | { failure: AiFailureKind; message: string; usage: TokenUsage };

/** Asks the model about ambiguous pairs, a bounded number at a time, with caching and fallbacks. */
export class AiMatcher {
  private readonly client: AiModelClient | undefined;
  private readonly cache: AiDecisionCache;
  private readonly logger: AiLogger;

  constructor(
    private readonly config: AiConfig,
    options: AiMatcherOptions = {},
  ) {
    this.cache = options.cache ?? new AiDecisionCache();
    this.logger = options.logger ?? new Logger(AiMatcher.name);
    this.client = !isAiUsable(config)
      ? undefined
      : (options.client ??
        new GeminiClient({
          apiKey: config.api_key ?? '',
          model: config.model,
          baseUrl: options.baseUrl,
          timeoutMs: options.timeoutMs,
        }));
  }

  /** Decides every pair; never throws: a pair the model cannot decide gets the fallback. */
  async decide(pairs: readonly AiPair[]): Promise<AiDecisionReport> {
    const report: AiDecisionReport = {
      decisions: [],
      calls: 0,
      cacheHits: 0,
      failures: emptyFailureCounts(),
      lowConfidence: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    };
    const client = this.client;
    if (client === undefined) {
      report.decisions = pairs.map(() => fallback('ai_unavailable'));
      return report;
    }

    const semaphore = new Semaphore(this.config.max_concurrent_requests);
    // Pairs with identical content in one run share a single request.
    const inFlight = new Map<string, Promise<Outcome>>();
    const outcomes = await Promise.all(
      pairs.map((pair) => {
        if (!this.config.cache_enabled) {
          return semaphore.run(() => this.ask(client, pair, report));
        }
        const hash = pairHash(pair, this.config.model);
        const cached = this.cache.get(hash);
        if (cached !== undefined) {
          return Promise.resolve<Outcome>({ verdict: cached, fromCache: true, usage: NO_USAGE });
        }
        const pending = inFlight.get(hash);
        if (pending !== undefined) {
          return pending.then((outcome): Outcome =>
            // The tokens were billed once, to the pair that made the request.
            'verdict' in outcome
              ? { ...outcome, fromCache: true, usage: NO_USAGE }
              : { ...outcome, usage: NO_USAGE },
          );
        }
        const request = semaphore.run(async () => {
          const outcome = await this.ask(client, pair, report);
          if ('verdict' in outcome) {
            this.cache.set(hash, outcome.verdict);
          }
          return outcome;
        });
        inFlight.set(hash, request);
        return request;
      }),
    );

    const messages = new Map<AiFailureKind, string>();
    for (const outcome of outcomes) {
      report.inputTokens += outcome.usage.inputTokens;
      report.outputTokens += outcome.usage.outputTokens;
      if ('failure' in outcome) {
        messages.set(outcome.failure, outcome.message);
        report.decisions.push(fallback(outcome.failure));
        continue;
      }
      if (outcome.fromCache) {
        report.cacheHits += 1;
      }
      report.decisions.push(this.apply(outcome.verdict, outcome.fromCache, report));
    }
    report.costUsd =
      (report.inputTokens / 1_000_000) * this.config.cost_per_1m_input_tokens +
      (report.outputTokens / 1_000_000) * this.config.cost_per_1m_output_tokens;
    this.warnAboutFailures(report, messages);
    return report;
  }

  private async ask(
    client: AiModelClient,
    pair: AiPair,
    report: AiDecisionReport,
  ): Promise<Outcome> {
    report.calls += 1;
    try {
      const reply = await client.generate(buildMatchPrompt(pair.left, pair.right), {
        temperature: this.config.temperature,
        maxOutputTokens: this.config.max_output_tokens,
      });
      const verdict = parseMatchVerdict(reply.text);
      if (verdict === undefined) {
        report.failures[AiFailureKind.InvalidResponse] += 1;
        return {
          failure: AiFailureKind.InvalidResponse,
          message: 'the model answered, but not with {"same_event", "confidence", "reason"}',
          usage: reply.usage,
        };
      }
      // The model never sees the key, but a reason lands in reports, so it is scrubbed all the same.
      return {
        verdict: { ...verdict, reason: this.redact(verdict.reason) },
        fromCache: false,
        usage: reply.usage,
      };
    } catch (error: unknown) {
      const kind = error instanceof AiRequestError ? error.kind : AiFailureKind.Unexpected;
      const usage = error instanceof AiRequestError ? (error.usage ?? NO_USAGE) : NO_USAGE;
      report.failures[kind] += 1;
      const message = error instanceof Error ? error.message : String(error);
      return { failure: kind, message: this.redact(message), usage };
    }
  }

  private apply(verdict: AiVerdict, fromCache: boolean, report: AiDecisionReport): AiDecision {
    if (verdict.confidence < this.config.confidence_threshold) {
      report.lowConfidence += 1;
      return {
        ...fallback('low_confidence'),
        confidence: verdict.confidence,
        reason: verdict.reason,
      };
    }
    return {
      sameEvent: verdict.sameEvent,
      decidedBy: fromCache ? 'cache' : 'ai',
      confidence: verdict.confidence,
      reason: verdict.reason,
      fallback: null,
    };
  }

  private warnAboutFailures(report: AiDecisionReport, messages: Map<AiFailureKind, string>): void {
    const kinds = AI_FAILURE_KINDS.filter((kind) => report.failures[kind] > 0);
    if (kinds.length === 0) {
      return;
    }
    const failed = kinds.reduce((sum, kind) => sum + report.failures[kind], 0);
    const summary = kinds
      .map((kind) => `${kind} ${report.failures[kind]} (${messages.get(kind) ?? 'no detail'})`)
      .join('; ');
    this.logger.warn(
      this.redact(
        `AI tie-breaker: ${failed} of ${report.calls} requests failed: ${summary}. Those pairs were ` +
          'kept apart (score-based fallback); check the API key, quota and model name if this persists.',
      ),
    );
  }

  private redact(text: string): string {
    return redactSecret(text, this.config.api_key);
  }
}

const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0 };

function fallback(reason: AiDecision['fallback']): AiDecision {
  return {
    sameEvent: FALLBACK_SAME_EVENT,
    decidedBy: 'fallback',
    confidence: null,
    reason: null,
    fallback: reason,
  };
}

/** Content hash of a pair, independent of which side is left: what the model would be shown. */
export function pairHash(pair: Pick<AiPair, 'left' | 'right'>, model: string): string {
  const sides = [eventFingerprint(pair.left), eventFingerprint(pair.right)].sort();
  return createHash('sha256')
    .update(JSON.stringify([model, ...sides]))
    .digest('hex');
}

function eventFingerprint(event: SourceEvent): string {
  const location = event.location;
  return JSON.stringify([
    event.source_type,
    normaliseText(event.title),
    normaliseText(event.short_description),
    normaliseText(event.description),
    startMillis(event.start),
    normaliseText(location?.name ?? ''),
    normaliseText(location?.city ?? ''),
    location?.lat ?? null,
    location?.lon ?? null,
  ]);
}
