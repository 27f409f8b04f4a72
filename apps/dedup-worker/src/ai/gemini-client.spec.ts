import { AiFailureKind, AiRequestError } from './ai.error';
import { GeminiClient } from './gemini-client';
import { geminiReply, GeminiStub, type StubHandler } from './testing/gemini-stub';

const API_KEY = 'AIza-test-key-7f3c9e';
const options = { temperature: 0.1, maxOutputTokens: 256 };

describe(GeminiClient.name, () => {
  let stub: GeminiStub | undefined;

  afterEach(async () => {
    await stub?.stop();
    stub = undefined;
  });

  async function clientFor(handler: StubHandler, timeoutMs?: number): Promise<GeminiClient> {
    stub = new GeminiStub(handler);
    const baseUrl = await stub.start();
    return new GeminiClient({ apiKey: API_KEY, model: 'gemini-2.5-flash', baseUrl, timeoutMs });
  }

  async function failure(sut: GeminiClient): Promise<AiRequestError> {
    const error: unknown = await sut.generate('prompt', options).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (!(error instanceof AiRequestError)) {
      throw new Error(`expected an AiRequestError, got ${String(error)}`);
    }
    return error;
  }

  it('posts the prompt to generateContent with the key in x-goog-api-key and asks for JSON', async () => {
    const sut = await clientFor(() =>
      geminiReply({ same_event: true, confidence: 0.9, reason: 'same' }),
    );

    const reply = await sut.generate('Are these the same?', options);

    expect(reply).toEqual({
      text: '{"same_event":true,"confidence":0.9,"reason":"same"}',
      usage: { inputTokens: 400, outputTokens: 30 },
    });
    const request = stub?.requests[0];
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request?.headers['x-goog-api-key']).toBe(API_KEY);
    expect(request?.url).not.toContain(API_KEY);
    expect(request?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Are these the same?' }] }],
      generationConfig: {
        temperature: 0.1,
        maxOutputTokens: 256,
        responseMimeType: 'application/json',
      },
    });
  });

  it('skips thought parts and bills thinking tokens as output', async () => {
    const sut = await clientFor(() => ({
      status: 200,
      body: JSON.stringify({
        candidates: [
          { content: { parts: [{ text: 'thinking…', thought: true }, { text: '{"a":1}' }] } },
        ],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 100 },
      }),
    }));

    expect(await sut.generate('p', options)).toEqual({
      text: '{"a":1}',
      usage: { inputTokens: 10, outputTokens: 105 },
    });
  });

  it.each([
    [429, AiFailureKind.RateLimited],
    [503, AiFailureKind.ServerError],
    [400, AiFailureKind.HttpError],
  ])(
    'reports HTTP %d as %s without repeating the key the provider echoed',
    async (status, kind) => {
      const sut = await clientFor(() => ({
        status,
        body: JSON.stringify({
          error: { message: `API key ${API_KEY} is not valid for this request` },
        }),
      }));

      const error = await failure(sut);

      expect(error.kind).toBe(kind);
      expect(error.message).toContain(`HTTP ${status}`);
      expect(error.message).not.toContain(API_KEY);
    },
  );

  it('reports a body that is not JSON, or has no text, as an invalid response', async () => {
    const sut = await clientFor((_request, index) =>
      index === 0
        ? { status: 200, body: '<html>oops</html>' }
        : { status: 200, body: '{"candidates":[]}' },
    );

    expect((await failure(sut)).kind).toBe(AiFailureKind.InvalidResponse);
    expect((await failure(sut)).kind).toBe(AiFailureKind.InvalidResponse);
  });

  it('gives up after the timeout', async () => {
    const sut = await clientFor(() => 'hang', 50);

    const error = await failure(sut);

    expect(error.kind).toBe(AiFailureKind.Timeout);
    expect(error.message).toContain('50 ms');
  });

  it('reports an unreachable server as a network error', async () => {
    const closed = new GeminiStub(() => geminiReply({}));
    const baseUrl = await closed.start();
    await closed.stop();
    const sut = new GeminiClient({ apiKey: API_KEY, model: 'gemini-2.5-flash', baseUrl });

    const error = await failure(sut);

    expect(error.kind).toBe(AiFailureKind.NetworkError);
    expect(error.message).not.toContain(API_KEY);
  });
});
