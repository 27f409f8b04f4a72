import fc from 'fast-check';
import { canonicalJson as managerCanonicalJson } from '@app/contracts';
import {
  canonicalJson,
  describeSyntaxError,
  findSyntaxError,
  parseJsonText,
  utf8Length,
} from './json-text';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** JSON texts, most of them broken by a few edits (a character inserted, or one deleted). */
const texts = fc
  .tuple(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(0, 2),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('', '{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '0', '-', '.'),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([value, indent, edits]) => {
    let text = JSON.stringify(value, null, indent);
    for (const [at, insert] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(insert === '' ? i + 1 : i);
    }
    return text;
  });

describe('parseJsonText', () => {
  it.each([
    ['{"a":1,}', 1, 8, "expected a property name in double quotes, found '}'"],
    [
      '{\n  "a": tru\n}',
      2,
      8,
      'expected true (words in JSON are true, false and null, in lowercase)',
    ],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}' after a property value, found '\"'"],
    ['', 1, 1, 'expected a value, found the end of the text'],
    ['[1, 2', 1, 6, "expected ',' or ']' after an array element, found the end of the text"],
    ['{"a": "x\ny"}', 1, 9, 'a line break inside a string: write it as an escape (\\n, \\t)'],
    [
      '{"😀": 01}',
      1,
      7,
      'invalid number (JSON numbers have no leading zeros, a digit after ".", no + sign)',
    ],
    ['{} {}', 1, 4, "unexpected '{' after the end of the JSON value"],
  ])('places the mistake in %j at line %i, column %i', (text, line, column, message) => {
    const parsed = parseJsonText(text);
    expect(parsed).toEqual({
      ok: false,
      error: expect.objectContaining({ line, column, message }),
    });
    if (!parsed.ok) {
      expect(describeSyntaxError(parsed.error)).toBe(
        `JSON error at line ${line}, column ${column}: ${message}`,
      );
    }
  });

  it('parses what JSON.parse parses', () => {
    expect(parseJsonText('{ "a": [1, true, null, "\\u00e9"] }')).toEqual({
      ok: true,
      value: { a: [1, true, null, 'é'] },
    });
  });

  it('finds a mistake exactly where JSON.parse fails, and none where it succeeds', () => {
    const outcomes = new Set<boolean>();
    fc.assert(
      fc.property(texts, (text) => {
        const error = findSyntaxError(text);
        expect(error === undefined).toBe(parses(text));
        if (error) expect(error.offset).toBeLessThanOrEqual(text.length);
        outcomes.add(error === undefined);
      }),
      { numRuns: 2000 },
    );
    expect([...outcomes].sort()).toEqual([false, true]);
  });

  it("falls back on JSON.parse's message for nesting too deep to read", () => {
    const parsed = parseJsonText(`${'['.repeat(100_000)}x`);
    expect(parsed.ok).toBe(false);
  });
});

describe('canonicalJson and utf8Length', () => {
  it('measure a schema as the manager does (sorted keys, UTF-8 bytes)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(text).toBe(managerCanonicalJson(value));
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
    );
    const withProto = JSON.parse('{"b": 1, "__proto__": {"x": 1}}') as unknown;
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"x":1},"b":1}');
    expect(canonicalJson({ '': 0, '0': [], '10': 1, '9': 2 })).toBe('{"":0,"0":[],"10":1,"9":2}');
    expect(utf8Length('\ud800')).toBe(Buffer.byteLength('\ud800', 'utf8'));
  });
});
