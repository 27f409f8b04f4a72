import fc from 'fast-check';
import nacl from 'tweetnacl';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import {
  boxPublicKeyOf,
  generateBoxKeyPair,
  openSealedSecret,
  SEALED_SECRET_ALG,
  SealedSecret,
  sealSecret,
} from './sealed-secret';
import { thrown } from '../test/support/thrown';

const recipient = generateBoxKeyPair();
const plaintext = 'sk-live-very-secret-api-key';

/** Flips one bit in the middle of a base64 field, keeping it valid base64 of the same length. */
function tamper(sealed: SealedSecret, field: 'epk' | 'nonce' | 'box'): SealedSecret {
  const bytes = Buffer.from(sealed[field], 'base64');
  bytes[bytes.length >> 1] ^= 1;
  return { ...sealed, [field]: bytes.toString('base64') };
}

describe(sealSecret.name, () => {
  const sut = sealSecret;

  it('round-trips a string and a buffer', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);

    expect(
      openSealedSecret(sut(plaintext, recipient.publicKey), recipient.secretKey).toString(),
    ).toBe(plaintext);
    expect(openSealedSecret(sut(bytes, recipient.publicKey), recipient.secretKey)).toEqual(bytes);
    expect(openSealedSecret(sut('', recipient.publicKey), recipient.secretKey)).toHaveLength(0);
  });

  it('produces the documented shape, with no trace of the plaintext', () => {
    const sealed = sut(plaintext, recipient.publicKey);
    const json = JSON.stringify(sealed);

    expect(Object.keys(sealed).sort()).toEqual(['alg', 'box', 'epk', 'nonce']);
    expect(sealed.alg).toBe(SEALED_SECRET_ALG);
    expect(Buffer.from(sealed.epk, 'base64')).toHaveLength(32);
    expect(Buffer.from(sealed.nonce, 'base64')).toHaveLength(24);
    expect(Buffer.from(sealed.box, 'base64')).toHaveLength(plaintext.length + 16);
    expect(json).not.toContain(plaintext);
    expect(json).not.toContain(Buffer.from(plaintext).toString('base64').slice(0, 16));
    expect(Buffer.from(sealed.box, 'base64').includes(Buffer.from(plaintext))).toBe(false);
  });

  it('uses a fresh ephemeral key and nonce for every seal', () => {
    const a = sut(plaintext, recipient.publicKey);
    const b = sut(plaintext, recipient.publicKey);

    expect(a.epk).not.toBe(b.epk);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.box).not.toBe(b.box);
  });

  it('refuses a recipient key of the wrong length or of low order', () => {
    expect(thrown(() => sut(plaintext, Buffer.alloc(31))).message).toBe(
      'recipient X25519 public key must be 32 bytes (got 31)',
    );
    // u = 0 and u = 1 are low-order points: the shared secret would be all zeros.
    const one = Buffer.alloc(32);
    one[0] = 1;
    for (const lowOrder of [Buffer.alloc(32), one]) {
      expect(thrown(() => sut(plaintext, lowOrder)).code).toBe(CryptoErrorCode.InvalidKey);
    }
  });
});

describe(openSealedSecret.name, () => {
  const sut = openSealedSecret;
  const sealed = sealSecret(plaintext, recipient.publicKey);

  it("does not open with another recipient's secret key", () => {
    const error = thrown(() => sut(sealed, generateBoxKeyPair().secretKey));

    expect(error.code).toBe(CryptoErrorCode.SealedSecretDoesNotOpen);
    expect(error.message).not.toContain(plaintext);
  });

  it.each(['box', 'nonce', 'epk'] as const)('does not open with a tampered %s', (field) => {
    expect(thrown(() => sut(tamper(sealed, field), recipient.secretKey)).code).toBe(
      CryptoErrorCode.SealedSecretDoesNotOpen,
    );
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'sealed secret is not an object'],
    ['an array', [sealed], 'sealed secret is not an object'],
    ['a string', JSON.stringify(sealed), 'sealed secret is not an object'],
    ['another alg', { ...sealed, alg: 'Ed25519' }, 'alg must be'],
    ['a missing epk', { ...sealed, epk: undefined }, 'epk must be a base64 string'],
    ['non-base64 nonce', { ...sealed, nonce: `${sealed.nonce.slice(1)}!` }, 'nonce is not valid'],
    ['unpadded base64', { ...sealed, box: 'AAAAAA' }, 'box is not valid base64'],
    ['a short epk', { ...sealed, epk: Buffer.alloc(31).toString('base64') }, '32 bytes (got 31)'],
    ['a long nonce', { ...sealed, nonce: Buffer.alloc(25).toString('base64') }, '24 bytes'],
    ['a box under 16 bytes', { ...sealed, box: Buffer.alloc(15).toString('base64') }, '16'],
  ])('reports %s as malformed', (_label, input, message) => {
    const error = thrown(() => sut(input, recipient.secretKey));

    expect(error.code).toBe(CryptoErrorCode.MalformedSealedSecret);
    expect(error.message).toContain(message);
  });

  it('reads only own fields, not ones inherited from a prototype', () => {
    const inherited: unknown = Object.assign(Object.create(sealed) as object, {});
    expect(thrown(() => sut(inherited, recipient.secretKey)).code).toBe(
      CryptoErrorCode.MalformedSealedSecret,
    );
  });

  it('turns a hostile object into a typed rejection', () => {
    const hostile = new Proxy(
      {},
      {
        getOwnPropertyDescriptor: () => {
          throw new TypeError('boom');
        },
      },
    );
    expect(thrown(() => sut(hostile, recipient.secretKey)).code).toBe(
      CryptoErrorCode.MalformedSealedSecret,
    );
  });

  it('refuses a recipient secret key of the wrong length', () => {
    expect(thrown(() => sut(sealed, Buffer.alloc(64))).code).toBe(CryptoErrorCode.InvalidKey);
  });

  it('throws nothing but CryptoError for arbitrary JSON, never leaking the key', () => {
    const base64Of = (min: number, max: number) =>
      fc
        .uint8Array({ minLength: min, maxLength: max })
        .map((b) => Buffer.from(b).toString('base64'));
    // Mostly the real field or a well-formed stand-in, so runs reach the decryption step too
    // (random JSON alone would almost always stop at the shape checks).
    const field = (real: string, bytes: number, min: number, max: number) =>
      fc.oneof(
        { arbitrary: fc.constant(real), weight: 3 },
        { arbitrary: base64Of(bytes, Math.max(bytes, max)), weight: 3 },
        { arbitrary: base64Of(min, max), weight: 1 },
        { arbitrary: fc.string(), weight: 1 },
        { arbitrary: fc.jsonValue(), weight: 1 },
      );
    const nearValid = fc.record(
      {
        alg: fc.oneof(
          { arbitrary: fc.constant(SEALED_SECRET_ALG), weight: 5 },
          { arbitrary: fc.jsonValue(), weight: 1 },
        ),
        epk: field(sealed.epk, 32, 30, 34),
        nonce: field(sealed.nonce, 24, 22, 26),
        box: field(sealed.box, 16, 0, 64),
      },
      { requiredKeys: ['alg', 'epk', 'nonce'] },
    );
    const secretB64 = recipient.secretKey.toString('base64');
    const outcomes = new Set<string>();

    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearValid), (input) => {
        let opened: Buffer;
        try {
          opened = sut(input, recipient.secretKey);
        } catch (error) {
          expect(error).toBeInstanceOf(CryptoError);
          const { code, message } = error as CryptoError;
          expect([
            CryptoErrorCode.MalformedSealedSecret,
            CryptoErrorCode.SealedSecretDoesNotOpen,
          ]).toContain(code);
          expect(message).not.toContain(secretB64);
          expect(message).not.toContain(plaintext);
          outcomes.add(code);
          return;
        }
        // Only the untouched fields can open, and then to the sealed value itself.
        expect(opened.toString()).toBe(plaintext);
        outcomes.add('opened');
      }),
      { numRuns: 300 },
    );
    expect(outcomes).toContain(CryptoErrorCode.SealedSecretDoesNotOpen);
  });
});

// Sealing and opening use Node's X25519 with tweetnacl's HSalsa20 and secretbox: the result must be
// exactly NaCl's crypto_box, which every other client (Python's PyNaCl) implements.
describe('crypto_box compatibility', () => {
  it('opens what tweetnacl boxed, and tweetnacl opens what it sealed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const message = Buffer.from(bytes);
        const ephemeral = nacl.box.keyPair();
        const nonce = nacl.randomBytes(24);
        const boxed: SealedSecret = {
          alg: SEALED_SECRET_ALG,
          epk: Buffer.from(ephemeral.publicKey).toString('base64'),
          nonce: Buffer.from(nonce).toString('base64'),
          box: Buffer.from(
            nacl.box(message, nonce, recipient.publicKey, ephemeral.secretKey),
          ).toString('base64'),
        };
        expect(openSealedSecret(boxed, recipient.secretKey).equals(message)).toBe(true);
        const sealed = sealSecret(message, recipient.publicKey);
        const opened = nacl.box.open(
          Buffer.from(sealed.box, 'base64'),
          Buffer.from(sealed.nonce, 'base64'),
          Buffer.from(sealed.epk, 'base64'),
          recipient.secretKey,
        );
        expect(opened && Buffer.from(opened).equals(message)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('does not open a box whose ephemeral key is a low-order point (an all-zero shared key)', () => {
    const nonce = Buffer.alloc(24, 7);
    // What anyone can box without the recipient's key when the shared secret is all zeros.
    const zeroKey = nacl.box.before(Buffer.alloc(32), Buffer.alloc(32));
    const forged: SealedSecret = {
      alg: SEALED_SECRET_ALG,
      epk: Buffer.alloc(32).toString('base64'),
      nonce: nonce.toString('base64'),
      box: Buffer.from(nacl.secretbox(Buffer.from(plaintext), nonce, zeroKey)).toString('base64'),
    };
    expect(thrown(() => openSealedSecret(forged, recipient.secretKey)).code).toBe(
      CryptoErrorCode.SealedSecretDoesNotOpen,
    );
  });
});

describe(generateBoxKeyPair.name, () => {
  it('generates distinct 32-byte key pairs whose public key matches the secret', () => {
    const a = generateBoxKeyPair();
    const b = generateBoxKeyPair();

    expect(a.publicKey).toHaveLength(32);
    expect(a.secretKey).toHaveLength(32);
    expect(boxPublicKeyOf(a.secretKey).equals(a.publicKey)).toBe(true);
    expect(a.secretKey.equals(b.secretKey)).toBe(false);
  });
});

describe(boxPublicKeyOf.name, () => {
  it('names the key and its length when the length is wrong', () => {
    expect(thrown(() => boxPublicKeyOf(Buffer.alloc(64), 'CONFIG_SECRET_KEY')).message).toBe(
      'CONFIG_SECRET_KEY must be 32 bytes (got 64)',
    );
  });
});
