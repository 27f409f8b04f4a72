import { formatPrettyLine } from '@app/logging';

const at = new Date(2026, 10, 21, 9, 5, 7, 42).getTime();

describe(formatPrettyLine.name, () => {
  it('shows a request line as method, URL, status and duration, with its request id', () => {
    const line = JSON.stringify({
      level: 40,
      time: at,
      pid: 1,
      hostname: 'h',
      app: 'config-manager',
      env: 'development',
      requestId: 'r-1',
      req: { method: 'GET', url: '/api/search?q=[redacted]', remoteAddress: '::1' },
      res: { statusCode: 400 },
      responseTime: 3.14159,
      msg: 'request completed',
    });

    expect(formatPrettyLine(line)).toBe(
      '09:05:07.042 WARN    [http] GET /api/search?q=[redacted] 400 3.1 ms (request r-1)\n',
    );
  });

  it('marks an aborted request', () => {
    const line = JSON.stringify({
      level: 50,
      time: at,
      req: { method: 'PUT', url: '/api/x' },
      res: { statusCode: 200 },
      aborted: true,
      msg: 'request aborted',
    });

    expect(formatPrettyLine(line)).toBe('09:05:07.042 ERROR   [http] PUT /api/x 200 (aborted)\n');
  });

  it('quotes field values with spaces, writes objects as JSON and an error stack below', () => {
    const line = JSON.stringify({
      level: 50,
      time: at,
      context: 'Boot',
      msg: 'failed',
      file: 'a b.yaml',
      params: [{ n: 1 }],
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at y' },
    });

    expect(formatPrettyLine(line)).toBe(
      '09:05:07.042 ERROR   [Boot] failed file="a b.yaml" params=[{"n":1}]\n' +
        '    Error: boom\n        at y\n',
    );
  });

  it('passes anything that is not a JSON object through', () => {
    expect(formatPrettyLine('plain text')).toBe('plain text');
    expect(formatPrettyLine('[1,2]')).toBe('[1,2]');
  });
});
