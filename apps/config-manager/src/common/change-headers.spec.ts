import { DomainError } from './domain-error';
import { parsePublish, parseReason } from './change-headers';

/** What Node hands over for a header sent as these UTF-8 bytes: one Latin-1 character per byte. */
const raw = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

function problemOf(header: string): string {
  try {
    parseReason(header);
  } catch (error) {
    if (error instanceof DomainError) {
      expect(error.details).toEqual([{ path: 'X-Change-Reason', message: expect.any(String) }]);
      return error.message;
    }
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe(parseReason.name, () => {
  it.each([
    ['ASCII', 'fewer false merges', 'fewer false merges'],
    ['raw UTF-8 bytes', raw('Schwellwert für Köln ↑ 🎉'), 'Schwellwert für Köln ↑ 🎉'],
    ['an RFC 8187 ext-value', "UTF-8''Schwellwert%20f%C3%BCr%20K%C3%B6ln", 'Schwellwert für Köln'],
    ['a lower-case charset with a language', "utf-8'de'K%C3%B6ln", 'Köln'],
    [
      "encodeURIComponent's unencoded '()*",
      "UTF-8''it's%20(really)%20*fine*",
      "it's (really) *fine*",
    ],
    ['a literal plus', "UTF-8''a+b", 'a+b'],
    ['tabs and line breaks', raw('one\ttwo\r\nthree'), 'one two  three'],
    ['C0, DEL and C1 controls', raw('a\u0000b\u001bc\u007fd\u0085e\u009f'), 'abcde'],
    ['padding', raw('  \t trimmed \n '), 'trimmed'],
    ['a combining mark', raw('e\u0301'), 'e\u0301'],
  ])('reads %s', (_, header, expected) => {
    expect(parseReason(header)).toBe(expected);
  });

  it.each([undefined, '', '   ', raw('\u0000\u0085\t')])('reads %j as no reason', (header) => {
    expect(parseReason(header)).toBeUndefined();
  });

  it.each([
    ['Latin-1 bytes that are not UTF-8', 'caf\u00e9'],
    ['a truncated sequence', raw('🎉').slice(0, 3)],
    ['an encoded surrogate', '\u00ed\u00a0\u0080'],
    ['a malformed escape', "UTF-8''100%"],
    ['an escape that is not UTF-8', "UTF-8''caf%E9"],
    ['a space in an ext-value', "UTF-8''two words"],
    ['characters above U+00FF', 'left \u2192 right'],
    ['a lone surrogate', 'a\ud83d'],
  ])('refuses %s with 400 naming X-Change-Reason', (_, header) => {
    expect(problemOf(header)).toMatch(/^X-Change-Reason must be UTF-8/);
  });

  it('counts code points: 500 emoji (1000 UTF-16 units) pass, 501 characters do not', () => {
    expect(parseReason(raw('🎉'.repeat(500)))).toBe('🎉'.repeat(500));
    expect(parseReason(raw(` ${'x'.repeat(500)}\n`))).toBe('x'.repeat(500));
    expect(problemOf(raw('🎉'.repeat(501)))).toBe('X-Change-Reason must be at most 500 characters');
    expect(problemOf('x'.repeat(501))).toBe('X-Change-Reason must be at most 500 characters');
  });
});

describe(parsePublish.name, () => {
  it.each([
    [undefined, 'now'],
    ['', 'now'],
    ['now', 'now'],
    [' Staged ', 'staged'],
    ['STAGED', 'staged'],
  ] as const)('reads %p as %p', (header, mode) => {
    expect(parsePublish(header)).toBe(mode);
  });

  it.each(['later', 'draft', 'staged,now'])('refuses %p naming X-Publish', (header) => {
    expect(() => parsePublish(header)).toThrow(
      expect.objectContaining({ details: [{ path: 'X-Publish', message: expect.any(String) }] }),
    );
  });
});
