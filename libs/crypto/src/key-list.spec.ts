import { randomBytes } from 'node:crypto';
import { CryptoErrorCode } from './crypto.error';
import { formatKeyList, KeyListEntry, parseKeyList } from './key-list';
import { thrown } from '../test/support/thrown';

const NAME = 'CONFIG_TRUSTED_KEYS';
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const b64A = keyA.toString('base64');
const b64B = keyB.toString('base64');

describe(parseKeyList.name, () => {
  const sut = parseKeyList;

  it('parses ids and keys, trimming whitespace and skipping empty items', () => {
    const entries = sut(` cfg-2026-11 : ${b64A} ,, dedup-worker:${b64B} ,`, 32, NAME);

    expect(entries).toEqual([
      { id: 'cfg-2026-11', key: keyA },
      { id: 'dedup-worker', key: keyB },
    ]);
  });

  it('returns an empty list for an empty or blank value', () => {
    expect(sut('', 32, NAME)).toEqual([]);
    expect(sut(' , ', 32, NAME)).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['an item without a separator', `a:${b64A},${b64B}`, `${NAME} item 2 must be id:base64Key`],
    ['an empty id', `:${b64A}`, `${NAME} item 1 has an invalid id`],
    ['an id with a bad first character', `-a:${b64A}`, `${NAME} item 1 has an invalid id`],
    ['an id over 64 characters', `${'a'.repeat(65)}:${b64A}`, `${NAME} item 1 has an invalid id`],
    ['an id with a space', `a b:${b64A}`, `${NAME} item 1 has an invalid id`],
    [
      'a duplicate id',
      `a:${b64A},b:${b64B},a:${b64B}`,
      `${NAME} item 3 repeats id a (first at item 1)`,
    ],
    ['an empty key', 'a:', `${NAME} item 1 (a) is not valid base64`],
    ['a key that is not base64', `a:${b64A.slice(1)}!`, `${NAME} item 1 (a) is not valid base64`],
    [
      'a key of the wrong length',
      `x:${b64A},a:${randomBytes(64).toString('base64')}`,
      `${NAME} item 2 (a) must decode to 32 bytes (got 64)`,
    ],
  ])('reports %s with its position and never the key', (_label, value, message) => {
    const error = thrown(() => sut(value, 32, NAME));

    expect(error.code).toBe(CryptoErrorCode.InvalidKey);
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.message).not.toContain(b64A.slice(0, 12));
    expect(error.message).not.toContain(b64B.slice(0, 12));
  });

  it('accepts ids of exactly 1 and 64 characters with dots, underscores and dashes', () => {
    const long = `A${'b._-'.repeat(15)}xyz`;
    expect(long).toHaveLength(64);
    expect(sut(`1:${b64A},${long}:${b64B}`, 32, NAME).map((e) => e.id)).toEqual(['1', long]);
  });

  it('does not echo a key pasted where the id belongs', () => {
    const error = thrown(() => sut(`${b64A}:cfg-1`, 32, NAME));
    expect(error.message).not.toContain(b64A.slice(0, 12));
  });
});

describe(formatKeyList.name, () => {
  const sut = formatKeyList;

  it('is the inverse of parseKeyList', () => {
    const entries: KeyListEntry[] = [
      { id: 'cfg-2026-11', key: keyA },
      { id: 'cfg-2027-01', key: keyB },
    ];
    const text = sut(entries);

    expect(text).toBe(`cfg-2026-11:${b64A},cfg-2027-01:${b64B}`);
    expect(parseKeyList(text, 32, NAME)).toEqual(entries);
    expect(sut([])).toBe('');
  });

  it('refuses what would not parse back', () => {
    expect(() => sut([{ id: 'a,b', key: keyA }], NAME)).toThrow(
      `${NAME} entry 1 has an invalid id`,
    );
    expect(() =>
      sut([
        { id: 'a', key: keyA },
        { id: 'a', key: keyB },
      ]),
    ).toThrow('key list entry 2 repeats id a');
    expect(() => sut([{ id: 'a', key: Buffer.alloc(0) }])).toThrow('entry 1 (a) has an empty key');
  });
});
