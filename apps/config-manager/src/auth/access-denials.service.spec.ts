import { AuditWindows } from './access-denials.service';

describe(AuditWindows.name, () => {
  const minute = 60_000;

  it('admits one denial per key a minute and counts the rest into the next admitted one', () => {
    const sut = new AuditWindows(minute);
    expect(sut.admit('reader\0/api/audit', 0)).toEqual({ suppressed: 0 });
    expect(sut.admit('reader\0/api/audit', 1)).toBeUndefined();
    expect(sut.admit('reader\0/api/audit', minute - 1)).toBeUndefined();
    // Another route (or token) is its own window.
    expect(sut.admit('reader\0/api/services', 2)).toEqual({ suppressed: 0 });
    expect(sut.admit('reader\0/api/audit', minute)).toEqual({ suppressed: 2 });
    expect(sut.admit('reader\0/api/audit', minute + 1)).toBeUndefined();
  });

  it('after a row that could not be written, admits the next denial at once, counting the lost one', () => {
    const sut = new AuditWindows(minute);
    const first = sut.admit('k', 0);
    expect(first).toEqual({ suppressed: 0 });
    sut.failed('k', first!.suppressed);
    expect(sut.admit('k', 1)).toEqual({ suppressed: 1 });
  });
});
