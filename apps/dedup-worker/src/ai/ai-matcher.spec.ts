import type { AiConfig } from '@app/contracts';
import { matchingConfig, sourceEvent } from '../matching/testing/matching.factories';
import { AiDecisionCache } from './ai-decision-cache';
import { AiFailureKind } from './ai.error';
import { AiMatcher, type AiLogger, type AiPair } from './ai-matcher';
import { geminiReply, GeminiStub, type StubHandler, type StubReply } from './testing/gemini-stub';

const API_KEY = 'AIza-secret-key-1234567890';

function aiConfig(overrides: Partial<AiConfig> = {}): AiConfig {
  return { ...matchingConfig().ai, enabled: true, api_key: API_KEY, ...overrides };
}

function pair(index: number): AiPair {
  return {
    left: sourceEvent({ id: `l${index}`, title: `Show number ${index}` }),
    right: sourceEvent({ source: 'guide', id: `r${index}`, title: `Show no. ${index}` }),
    score: 0.6,
  };
}

function promptOf(body: unknown): string {
  const text = (body as { contents: { parts: { text: string }[] }[] }).contents[0].parts[0].text;
  return text;
}

// The index of the pair a request is about, read from the prompt: arrival order is not fixed.
function pairIndexOf(body: unknown): number {
  const match = /Show number (\d+)/.exec(promptOf(body));
  return Number(match?.[1]);
}

class CapturingLogger implements AiLogger {
  readonly lines: string[] = [];
  warn(message: string): void {
    this.lines.push(message);
  }
}

describe(AiMatcher.name, () => {
  let stub: GeminiStub | undefined;
  let logger: CapturingLogger;

  beforeEach(() => {
    logger = new CapturingLogger();
  });

  afterEach(async () => {
    await stub?.stop();
    stub = undefined;
  });

  async function matcher(
    handler: StubHandler,
    config: AiConfig = aiConfig(),
    extra: { cache?: AiDecisionCache; timeoutMs?: number } = {},
  ): Promise<AiMatcher> {
    stub = new GeminiStub(handler);
    const baseUrl = await stub.start();
    return new AiMatcher(config, { baseUrl, logger, ...extra });
  }

  it('uses a confident answer and costs it from usageMetadata', async () => {
    const sut = await matcher(() =>
      geminiReply(
        { same_event: true, confidence: 0.92, reason: 'Same artist, venue and time.' },
        { promptTokenCount: 1000, candidatesTokenCount: 200 },
      ),
    );

    const report = await sut.decide([pair(0)]);

    expect(report.decisions).toEqual([
      {
        sameEvent: true,
        decidedBy: 'ai',
        confidence: 0.92,
        reason: 'Same artist, venue and time.',
        fallback: null,
      },
    ]);
    expect(report).toMatchObject({ calls: 1, cacheHits: 0, inputTokens: 1000, outputTokens: 200 });
    // 1000 tokens at $0.30/M plus 200 at $2.50/M.
    expect(report.costUsd).toBeCloseTo(0.0003 + 0.0005, 10);
    expect(stub?.requests[0].headers['x-goog-api-key']).toBe(API_KEY);
    expect(promptOf(stub?.requests[0].body)).toContain('Show number 0');
  });

  it('falls back (not the same event) when the confidence is below the threshold', async () => {
    const sut = await matcher(() =>
      geminiReply({ same_event: true, confidence: 0.55, reason: 'Maybe.' }),
    );

    const report = await sut.decide([pair(0)]);

    expect(report.decisions[0]).toMatchObject({
      sameEvent: false,
      decidedBy: 'fallback',
      fallback: 'low_confidence',
      confidence: 0.55,
    });
    expect(report.lowConfidence).toBe(1);
  });

  it('falls back on 429, 5xx, timeouts and garbage, counting each kind, and never throws', async () => {
    const replies: Record<number, StubReply> = {
      0: { status: 429, body: '{"error":{"message":"Resource exhausted"}}' },
      1: 'hang',
      2: geminiReply('this is not JSON'),
      3: geminiReply({ same_event: 'yes', confidence: 2 }),
      4: { status: 500, body: 'internal' },
      5: geminiReply({ same_event: true, confidence: 0.9, reason: 'ok' }),
    };
    // Only the hanging request may reach the timeout: a loaded CI machine can take well over
    // 100 ms to answer the others from the local stub.
    const sut = await matcher((request) => replies[pairIndexOf(request.body)], aiConfig(), {
      timeoutMs: 1500,
    });

    const report = await sut.decide([0, 1, 2, 3, 4, 5].map(pair));

    expect(report.decisions.map((decision) => decision.fallback)).toEqual([
      AiFailureKind.RateLimited,
      AiFailureKind.Timeout,
      AiFailureKind.InvalidResponse,
      AiFailureKind.InvalidResponse,
      AiFailureKind.ServerError,
      null,
    ]);
    expect(report.decisions.map((decision) => decision.sameEvent)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(report.failures).toEqual({
      timeout: 1,
      rate_limited: 1,
      server_error: 1,
      http_error: 0,
      network_error: 0,
      invalid_response: 2,
      unexpected: 0,
    });
    expect(report.calls).toBe(6);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain('rate_limited 1');
  });

  it('never has more than max_concurrent_requests requests in flight', async () => {
    const total = 7;
    const limit = 2;
    const held: (() => void)[] = [];
    let received = 0;
    // The stub holds answers until the client has `limit` requests open (or sent them all), so
    // the client is given every chance to exceed the limit.
    const sut = await matcher(
      () =>
        new Promise<StubReply>((resolve) => {
          received += 1;
          held.push(() =>
            resolve(geminiReply({ same_event: false, confidence: 0.9, reason: 'no' })),
          );
          if (held.length === limit || received === total) {
            held.splice(0).forEach((release) => release());
          }
        }),
      aiConfig({ max_concurrent_requests: limit }),
    );

    const report = await sut.decide(Array.from({ length: total }, (_, index) => pair(index)));

    expect(report.calls).toBe(total);
    expect(stub?.maxInFlight).toBe(limit);
  });

  it('answers a pair already decided from the cache passed in, in either order', async () => {
    const cache = new AiDecisionCache();
    const answer = (): StubReply =>
      geminiReply({ same_event: true, confidence: 0.8, reason: 'same' });
    const first = await matcher(answer, aiConfig(), { cache });
    await first.decide([pair(0), pair(1)]);
    await stub?.stop();

    const second = await matcher(answer, aiConfig(), { cache });
    const swapped = { ...pair(1), left: pair(1).right, right: pair(1).left };
    const report = await second.decide([pair(0), swapped]);

    expect(stub?.requests).toHaveLength(0);
    expect(report).toMatchObject({ calls: 0, cacheHits: 2, costUsd: 0 });
    expect(report.decisions.map((decision) => [decision.sameEvent, decision.decidedBy])).toEqual([
      [true, 'cache'],
      [true, 'cache'],
    ]);
  });

  it('asks once for pairs with the same content in one run and bills the tokens once', async () => {
    const sut = await matcher(() =>
      geminiReply({ same_event: true, confidence: 0.8, reason: 'same' }),
    );

    const report = await sut.decide([pair(3), pair(3)]);

    expect(report).toMatchObject({ calls: 1, cacheHits: 1, inputTokens: 400, outputTokens: 30 });
    expect(report.decisions.map((decision) => decision.sameEvent)).toEqual([true, true]);
  });

  it('asks again when cache_enabled is false', async () => {
    const cache = new AiDecisionCache();
    const answer = (): StubReply =>
      geminiReply({ same_event: true, confidence: 0.8, reason: 'same' });
    const config = aiConfig({ cache_enabled: false });
    await (await matcher(answer, config, { cache })).decide([pair(0)]);
    await stub?.stop();

    const report = await (await matcher(answer, config, { cache })).decide([pair(0)]);

    expect(report).toMatchObject({ calls: 1, cacheHits: 0 });
  });

  it('sends nothing without enabled or without an API key', async () => {
    for (const config of [
      aiConfig({ enabled: false }),
      aiConfig({ api_key: '' }),
      aiConfig({ api_key: undefined }),
    ]) {
      const sut = await matcher(
        () => geminiReply({ same_event: true, confidence: 1, reason: 'x' }),
        config,
      );

      const report = await sut.decide([pair(0)]);

      expect(stub?.requests).toHaveLength(0);
      expect(report.decisions[0]).toMatchObject({ sameEvent: false, fallback: 'ai_unavailable' });
      await stub?.stop();
      stub = undefined;
    }
  });

  it('keeps the API key out of reports and logs, even when the provider echoes it', async () => {
    const sut = await matcher((request) =>
      pairIndexOf(request.body) === 0
        ? {
            status: 403,
            body: JSON.stringify({ error: { message: `key ${API_KEY} is disabled` } }),
          }
        : geminiReply({ same_event: true, confidence: 0.9, reason: `I saw ${API_KEY}` }),
    );

    const report = await sut.decide([pair(0), pair(1)]);

    expect(stub?.requests[0].headers['x-goog-api-key']).toBe(API_KEY);
    expect(report.decisions[1].sameEvent).toBe(true);
    expect(report.failures.http_error).toBe(1);
    expect(JSON.stringify(report)).not.toContain(API_KEY);
    expect(logger.lines.join('\n')).toContain('http_error');
    expect(logger.lines.join('\n')).not.toContain(API_KEY);
  });
});
