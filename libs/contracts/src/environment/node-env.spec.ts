import { parseNodeEnv } from './node-env';

describe(parseNodeEnv.name, () => {
  it.each([
    [undefined, 'development'],
    ['', 'development'],
    ['  ', 'development'],
    ['production', 'production'],
    ['Production', 'production'],
    [' PRODUCTION ', 'production'],
    ['Development', 'development'],
    ['TEST', 'test'],
  ])('reads %j as %s', (raw, expected) => {
    const problems: string[] = [];

    expect(parseNodeEnv(raw, problems)).toBe(expected);
    expect(problems).toEqual([]);
  });

  it.each(['prod', 'staging', 'production1', 'PRODUCT\u0130ON'])(
    'refuses %j naming NODE_ENV and the accepted values, and reads it as production',
    (raw) => {
      const problems: string[] = [];

      expect(parseNodeEnv(raw, problems)).toBe('production');
      expect(problems).toEqual([
        `NODE_ENV must be one of production, development, test (in any case; got ${JSON.stringify(raw)})`,
      ]);
    },
  );
});
