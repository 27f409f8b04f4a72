import type { DestinationStream } from 'pino';
import { AppLogger, type LogFormat, LoggingEnvironment, redactUrl } from '@app/logging';
import { EnvironmentError, parseEnvironment, readEnvironment } from '@app/contracts';

/** Keeps what the logger writes, line by line. */
class Capture implements DestinationStream {
  readonly lines: string[] = [];
  write(chunk: string): void {
    this.lines.push(...chunk.split('\n').filter((line) => line !== ''));
  }
  text(): string {
    return this.lines.join('\n');
  }
}

const SECRET = 'sk-live-never-logged';
const TOKEN = 'tok-never-logged-0123456789';

function loggerFor(format: LogFormat): { sut: AppLogger; out: Capture } {
  const out = new Capture();
  const sut = AppLogger.create({ app: 'test-app', env: 'test', level: 'log', format }, out);
  return { sut, out };
}

describe(AppLogger.name, () => {
  it('writes JSON lines with app, env, level, context and message', () => {
    const { sut, out } = loggerFor('json');

    sut.log('Created dedup-worker version 1', 'ConfigsService');

    expect(JSON.parse(out.lines[0])).toMatchObject({
      level: 30,
      app: 'test-app',
      env: 'test',
      context: 'ConfigsService',
      msg: 'Created dedup-worker version 1',
    });
  });

  it('writes readable lines: time, level, [context], message, then other fields', () => {
    const { sut, out } = loggerFor('pretty');

    sut.log('Created dedup-worker version 1', 'ConfigsService');
    sut.warn({ msg: 'Slow broker', ackMs: 2500 }, 'Publisher');
    sut.withRequestId('req-7', () => sut.error('Publish failed', 'Error: boom\n    at x', 'Pub'));

    expect(out.lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} LOG {5}\[ConfigsService\] Created dedup-worker version 1$/,
    );
    expect(out.lines[1]).toMatch(/ WARN {4}\[Publisher\] Slow broker ackMs=2500$/);
    expect(out.lines[2]).toMatch(/ ERROR {3}\[Pub\] Publish failed \(request req-7\)$/);
    expect(out.lines.slice(3)).toEqual(['    Error: boom', '        at x']);
    expect(out.text()).not.toContain('{');
  });

  it.each<LogFormat>(['json', 'pretty'])(
    'redacts secret fields and secret query values the same way in %s lines',
    (format) => {
      const { sut, out } = loggerFor(format);

      sut.log({ msg: 'object with secrets', token: TOKEN, password: SECRET }, 'Ctx');
      sut.log({ msg: 'nested', body: { value: SECRET, ai: { api_key: SECRET } } }, 'Ctx');
      sut.log({ msg: 'façade', payload: { ai_api_key: SECRET } }, 'Ctx');
      sut.pino.info(
        { req: { method: 'GET', url: redactUrl(`/api/search?q=${SECRET}&token=${TOKEN}`) } },
        'request completed',
      );

      expect(out.lines).toHaveLength(4);
      expect(out.text()).not.toContain(SECRET);
      expect(out.text()).not.toContain(TOKEN);
      expect(out.text()).toContain('/api/search?q=[redacted]&token=[redacted]');
      expect(out.text().match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
    },
  );

  it("takes Nest's (message, stack?, context) for errors, with or without a stack", () => {
    const { sut, out } = loggerFor('json');

    sut.error('no stack', undefined, 'Bootstrap');
    sut.error('with stack', 'Error: x\n    at y', 'Bootstrap');

    const [first, second] = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({ msg: 'no stack', context: 'Bootstrap' });
    expect(first).not.toHaveProperty('params');
    expect(first).not.toHaveProperty('stack');
    expect(second).toMatchObject({ msg: 'with stack', stack: 'Error: x\n    at y' });
  });

  it('keeps the level threshold in both formats', () => {
    for (const format of ['json', 'pretty'] as const) {
      const out = new Capture();
      const sut = AppLogger.create({ app: 'a', env: 'e', level: 'warn', format }, out);
      sut.log('hidden');
      sut.warn('shown');
      expect(out.lines).toHaveLength(1);
    }
  });
});

describe(LoggingEnvironment.name, () => {
  it.each([
    [{}, 'pretty'],
    [{ NODE_ENV: 'development' }, 'pretty'],
    [{ NODE_ENV: 'test' }, 'json'],
    [{ NODE_ENV: 'production' }, 'json'],
    [{ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }, 'pretty'],
    [{ NODE_ENV: 'development', LOG_FORMAT: 'json' }, 'json'],
  ])('with %j logs %s', (env, format) => {
    expect(readEnvironment(LoggingEnvironment, env).values.LOG_FORMAT).toBe(format);
  });

  it('refuses an unknown LOG_FORMAT naming the accepted values; a lenient read keeps the default', () => {
    expect(() => readEnvironment(LoggingEnvironment, { LOG_FORMAT: 'text' })).toThrow(
      EnvironmentError,
    );
    const sut = parseEnvironment(LoggingEnvironment, { LOG_FORMAT: 'text', NODE_ENV: 'test' });
    expect(sut.problems).toEqual(['LOG_FORMAT must be one of json, pretty']);
    expect(sut.values.LOG_FORMAT).toBe('json');
  });
});
