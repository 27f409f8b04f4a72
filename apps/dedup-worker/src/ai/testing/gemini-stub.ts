import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the stub received it. */
export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** What the stub sends back; `hang` never answers (until the stub stops). */
export type StubReply = { status: number; body: string } | 'hang';

/** Decides the reply to each request, in arrival order (0-based). */
export type StubHandler = (request: StubRequest, index: number) => StubReply | Promise<StubReply>;

/** A generateContent success carrying `answer` (an object is sent as JSON text) and token usage. */
export function geminiReply(
  answer: unknown,
  usage: { promptTokenCount: number; candidatesTokenCount: number } = {
    promptTokenCount: 400,
    candidatesTokenCount: 30,
  },
): StubReply {
  const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
  return {
    status: 200,
    body: JSON.stringify({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }],
      usageMetadata: {
        ...usage,
        totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount,
      },
    }),
  };
}

/** A local HTTP server standing in for the Gemini API; it records requests and peak concurrency. */
export class GeminiStub {
  readonly requests: StubRequest[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly server: Server;

  constructor(private readonly handler: StubHandler) {
    this.server = createServer((req, res) => {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const request: StubRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        };
        const index = this.requests.push(request) - 1;
        void Promise.resolve(this.handler(request, index)).then((reply) => {
          if (reply === 'hang') {
            return;
          }
          // Counted down before the bytes go out: the client may send its next request as soon as it reads them.
          this.inFlight -= 1;
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(reply.body);
        });
      });
    });
  }

  /** Starts listening on a random local port and returns the base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Stops the server, dropping any connection still held open. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
