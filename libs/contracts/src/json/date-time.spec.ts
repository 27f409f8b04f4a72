import { readDateTime } from '@app/contracts';

describe(readDateTime.name, () => {
  it.each([
    ['2026-11-21T20:00:00.000Z', Date.UTC(2026, 10, 21, 20)],
    ['2026-11-21T20:00:00Z', Date.UTC(2026, 10, 21, 20)],
    ['2026-11-21T21:00:00.5+01:00', Date.UTC(2026, 10, 21, 20, 0, 0, 500)],
  ])('reads %s', (text, ms) => {
    expect(readDateTime(text)).toBe(ms);
  });

  it.each([
    ['a date only', '2026-11-21'],
    ['a space instead of T', '2026-11-21 20:00:00Z'],
    ['no zone', '2026-11-21T20:00:00'],
    ['a lowercase z', '2026-11-21T20:00:00z'],
    ['an impossible month', '2026-13-21T20:00:00Z'],
    ['a number', 1_764_000_000_000],
    ['null', null],
  ])('refuses %s', (_case, value) => {
    expect(readDateTime(value)).toBeUndefined();
  });
});
