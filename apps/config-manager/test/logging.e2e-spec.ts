import { bearer, TOKENS } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const admin = bearer(TOKENS.admin);
const NEEDLE = 'sk-live-searched-for-in-a-log-test';

describe.each([
  ['json', /^\{"level":40,.*"msg":"request completed"\}$/],
  [
    'pretty',
    /^\d\d:\d\d:\d\d\.\d{3} WARN {4}\[http\] GET \/api\/search\?token=\[redacted\]&q=\[redacted\] 400 [\d.]+ ms \(request log-1\)$/,
  ],
])('config-manager logs with LOG_FORMAT=%s', (format, requestLine) => {
  let sut: TestManager;

  beforeAll(async () => {
    sut = await startManager({ store: 'sqlite', env: { LOG_FORMAT: format } });
  });

  afterAll(() => sut.close());

  it('writes request lines in that format, never a token or a searched value', async () => {
    await sut
      .http()
      .get('/api/search')
      .query({ token: TOKENS.writer, q: NEEDLE })
      .set(admin)
      .set('X-Request-Id', 'log-1')
      .expect(400);

    expect(sut.logs.lines.filter((line) => line.includes('log-1'))).toEqual([
      expect.stringMatching(requestLine),
    ]);
    const text = sut.logs.text();
    expect(text).not.toContain(NEEDLE);
    expect(text).not.toContain(TOKENS.writer);
    expect(text).not.toContain(TOKENS.admin);
  });

  it('writes the application lines (Nest and its own) in that format too', () => {
    const started = sut.logs.lines.find((line) =>
      line.includes('Nest application successfully started'),
    );
    expect(started).toBeDefined();
    if (format === 'json') {
      expect(JSON.parse(started as string)).toMatchObject({
        context: 'NestApplication',
        level: 30,
      });
    } else {
      expect(started).toMatch(/^\d\d:\d\d:\d\d\.\d{3} LOG {5}\[NestApplication\] Nest application/);
    }
  });
});
