import { REDACTED, redactUrl } from './redaction';

describe(redactUrl.name, () => {
  it.each([
    ['/api/services', '/api/services'],
    ['/api/search?q=sk-live-1', `/api/search?q=${REDACTED}`],
    [
      '/api/services/x/versions?limit=5&token=abc&before=3',
      `/api/services/x/versions?limit=5&token=${REDACTED}&before=3`,
    ],
    [
      '/a?access_token=1&api_key=2&password=3&secret=4&client_secret=5&apikey=6',
      `/a?access_token=${REDACTED}&api_key=${REDACTED}&password=${REDACTED}&secret=${REDACTED}&client_secret=${REDACTED}&apikey=${REDACTED}`,
    ],
    ['/a?Token=1&ACCESS_TOKEN=2', `/a?Token=${REDACTED}&ACCESS_TOKEN=${REDACTED}`],
    [
      '/a?%74oken=1&token%5B%5D=2&token[]=3',
      `/a?%74oken=${REDACTED}&token%5B%5D=${REDACTED}&token[]=${REDACTED}`,
    ],
    ['/a?q=1&q=2', `/a?q=${REDACTED}&q=${REDACTED}`],
    ['/a?token&flag=&q=', `/a?token&flag=&q=${REDACTED}`],
    ['/a?%E0%A4%A=1&limit=2', `/a?%E0%A4%A=${REDACTED}&limit=2`],
    ['/a?service=dedup-worker&from=1&to=2', '/a?service=dedup-worker&from=1&to=2'],
  ])('logs %s as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});
