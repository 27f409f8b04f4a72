import { deriveChanges } from './version-store';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe(deriveChanges.name, () => {
  it('lists the changed config paths, then the secrets whose state differs in the later version’s order', () => {
    const before = json({
      config: { a: 1, b: { c: 'x' } },
      secrets: {
        'z.key': { set: false, updatedAt: null },
        'a.key': { set: true, updatedAt: '2026-12-07T10:00:00.000Z' },
      },
    });
    const after = json({
      config: { a: 2, b: { c: 'x' } },
      secrets: {
        'z.key': { set: true, updatedAt: '2026-12-07T11:00:00.000Z' },
        'a.key': { set: false, updatedAt: '2026-12-07T11:00:00.000Z' },
      },
    });

    expect(deriveChanges(before, after)).toEqual([
      { path: 'a', from: 1, to: 2 },
      { path: 'z.key', changed: true },
      { path: 'a.key', changed: true },
    ]);
  });

  it('is empty between equal versions', () => {
    const same = json({ config: { a: 1 }, secrets: {} });
    expect(deriveChanges(same, same)).toEqual([]);
  });
});
