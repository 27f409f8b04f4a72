import fc from 'fast-check';
import { parseReason } from '../../../config-manager/src/common/change-headers';
import { MAX_REASON, normalizeReason, reasonHeaders, reasonProblem } from './change-reason';

type Outcome = { stored: string | undefined } | { refused: string };

/** What the manager does with a header value: stores a reason (or none), or answers 400. */
function manager(header: string | undefined): Outcome {
  try {
    return { stored: parseReason(header) };
  } catch (error) {
    return { refused: error instanceof Error ? error.message : String(error) };
  }
}

/** The header as Node hands it over when a client sends the reason's UTF-8 bytes unencoded. */
const rawBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const controls = fc
  .oneof(fc.integer({ min: 0x00, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
  .map((code) => String.fromCharCode(code));
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom('🎉', '👩‍👩‍👧', '🇩🇪', '😀', '\u{1f3fd}') },
  { weight: 2, arbitrary: fc.constantFrom('e\u0301', '\u0301', '\u0308', 'a\u20dd', '\u0e31') },
  { weight: 2, arbitrary: controls },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\u00a0', '\u2028', '\ufeff', '\u200b', "'()*%+") },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }) },
);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map(String.fromCharCode);
/** Reasons of any length, and many around the limit (495 to 505 pieces, padding included). */
const reasons = fc.oneof(
  fc
    .array(fc.oneof({ weight: 30, arbitrary: piece }, { weight: 1, arbitrary: loneSurrogate }), {
      maxLength: 40,
    })
    .map((parts) => parts.join('')),
  fc.array(piece, { minLength: 495, maxLength: 505 }).map((parts) => parts.join('')),
  fc
    .tuple(fc.integer({ min: 499, max: 501 }), fc.constantFrom('x', '🎉', 'é', 'e\u0301'))
    .map(([count, unit]) => Array.from({ length: count }, () => unit).join('')),
);

describe('the admin page and config-manager agree on X-Change-Reason', () => {
  it('accepts what the manager accepts and sends what the manager stores, raw or encoded', () => {
    fc.assert(
      fc.property(reasons, (reason) => {
        const problem = reasonProblem(reason);
        if (/\p{Surrogate}/u.test(reason)) {
          // Not text: the page refuses it, and no UTF-8 (so no header) can carry it.
          expect(problem).toBe('contains a broken character (an unpaired surrogate)');
          return;
        }
        const encoded = manager(reasonHeaders(reason)['X-Change-Reason']);

        if (problem === undefined) {
          expect(encoded).toEqual({ stored: normalizeReason(reason) || undefined });
        } else {
          expect(problem).toBe(`at most ${MAX_REASON} characters`);
          expect(encoded).toEqual({ refused: 'X-Change-Reason must be at most 500 characters' });
        }
        // A client sending the UTF-8 bytes unencoded gets exactly the same answer.
        expect(manager(rawBytes(reason))).toEqual(encoded);
      }),
      { numRuns: 300 },
    );
  });

  it('sends only RFC 8187 attr-chars and escapes, so any header-safe client can carry it', () => {
    fc.assert(
      fc.property(reasons, (reason) => {
        fc.pre(reasonProblem(reason) === undefined);
        const header = reasonHeaders(reason)['X-Change-Reason'];
        if (header !== undefined) {
          expect(header).toMatch(/^UTF-8''(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*$/);
        }
      }),
    );
  });

  it.each([
    ['500 emoji (1000 UTF-16 units)', '🎉'.repeat(500), undefined],
    ['500 letters with padding and controls', ` \t${'x'.repeat(500)}\u0000\n`, undefined],
    ['501 letters', 'x'.repeat(501), 'at most 500 characters'],
    ['a lone surrogate', 'ok \ud83d', 'contains a broken character (an unpaired surrogate)'],
  ])('checks %s', (_, reason, problem) => {
    expect(reasonProblem(reason)).toBe(problem);
  });

  it('sends no header for a reason that is empty once controls are gone', () => {
    expect(reasonHeaders(' \t\u0000\u0085 ')).toEqual({});
    expect(manager(' \t\u0000 ')).toEqual({ stored: undefined });
  });
});
