import { createPrivateKey, createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { CryptoError, CryptoErrorCode } from './crypto.error';
import {
  Ed25519Signer,
  Ed25519Verifier,
  generateSigningKeyPair,
  naclSign,
  naclVerify,
  SigningKeyPair,
  signingPublicKeyOf,
} from './ed25519';
import { thrown } from '../test/support/thrown';

// Key pairs derived from generated seeds, so fast-check can replay and shrink a failing case.
// The public half comes from Node: tweetnacl is ~10x slower inside Jest's VM context, and
// byte-identical signatures below prove the two agree on it anyway.
const keyPairArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((seed): SigningKeyPair => {
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey)
    .export({ format: 'der', type: 'spki' })
    .subarray(12);
  return { publicKey, secretKey: Buffer.concat([seed, publicKey]) };
});
const messageArb = fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes));

function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[Math.floor(bit / 8) % copy.length] ^= 1 << (bit % 8);
  return copy;
}

describe('Ed25519 interop (Node built-in and tweetnacl)', () => {
  it('cross-verifies both ways with byte-identical signatures', () => {
    fc.assert(
      fc.property(messageArb, keyPairArb, (message, pair) => {
        const nodeSignature = new Ed25519Signer(pair.secretKey).sign(message);
        const naclSignature = naclSign(message, pair.secretKey);

        expect(nodeSignature.equals(naclSignature)).toBe(true);
        expect(naclVerify(message, nodeSignature, pair.publicKey)).toBe(true);
        expect(new Ed25519Verifier(pair.publicKey).verify(message, naclSignature)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects a flipped bit in the message or the signature in both implementations', () => {
    fc.assert(
      fc.property(
        messageArb.filter((message) => message.length > 0),
        keyPairArb,
        fc.nat(),
        fc.boolean(),
        (message, pair, bit, inSignature) => {
          const signature = new Ed25519Signer(pair.secretKey).sign(message);
          // One flip per run keeps tweetnacl calls (slow under Jest) to one; runs cover both.
          const [m, s] = inSignature
            ? [message, flipBit(signature, bit)]
            : [flipBit(message, bit), signature];

          expect(new Ed25519Verifier(pair.publicKey).verify(m, s)).toBe(false);
          expect(naclVerify(m, s, pair.publicKey)).toBe(false);
        },
      ),
      // tweetnacl is ~10x slower under Jest's VM; the cross-verification above is the main property.
      { numRuns: 40 },
    );
  });

  it('rejects a signature by another key in both implementations', () => {
    const message = Buffer.from('{"service":"dedup-worker","version":12}');
    const signer = generateSigningKeyPair();
    const other = generateSigningKeyPair();
    const signature = naclSign(message, other.secretKey);

    expect(new Ed25519Verifier(signer.publicKey).verify(message, signature)).toBe(false);
    expect(naclVerify(message, signature, signer.publicKey)).toBe(false);
  });
});

describe(Ed25519Signer.name, () => {
  it('exposes the public key of its secret key', () => {
    const pair = generateSigningKeyPair();
    const sut = new Ed25519Signer(pair.secretKey);
    expect(sut.publicKey.equals(pair.publicKey)).toBe(true);
  });

  it('refuses a secret key of the wrong length, naming the problem but not the key', () => {
    const seedOnly = generateSigningKeyPair().secretKey.subarray(0, 32);
    const error = thrown(() => new Ed25519Signer(seedOnly, 'CONFIG_SIGNING_KEY'));

    expect(error.code).toBe(CryptoErrorCode.InvalidKey);
    expect(error.message).toBe('CONFIG_SIGNING_KEY must be 64 bytes (got 32)');
  });

  it('refuses a secret key whose public half belongs to another seed', () => {
    const pair = generateSigningKeyPair();
    const spliced = Buffer.concat([
      pair.secretKey.subarray(0, 32),
      generateSigningKeyPair().publicKey,
    ]);
    const error = thrown(() => new Ed25519Signer(spliced));

    expect(error.code).toBe(CryptoErrorCode.InvalidKey);
    expect(error.message).toMatch(/does not match its seed/);
    expect(error.message).not.toContain(spliced.toString('base64'));
    expect(error.message).not.toContain(spliced.subarray(0, 32).toString('hex'));
  });
});

describe(Ed25519Verifier.name, () => {
  const pair = generateSigningKeyPair();
  const message = Buffer.from('payload bytes');
  const signature = naclSign(message, pair.secretKey);
  const sut = new Ed25519Verifier(pair.publicKey);

  it('accepts a valid signature', () => {
    expect(sut.verify(message, signature)).toBe(true);
  });

  it.each([0, 63, 65, 128])('returns false for a %i-byte signature', (length) => {
    const wrong = Buffer.alloc(length);
    signature.copy(wrong);
    expect(sut.verify(message, wrong)).toBe(false);
    expect(naclVerify(message, wrong, pair.publicKey)).toBe(false);
  });

  it('rejects a non-canonical (S + group order) signature that tweetnacl accepts', () => {
    // Documents the one known divergence: Node's check is the stricter one, and the hot path.
    const order = (1n << 252n) + 27742317777372353535851937790883648493n;
    const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString('hex')}`);
    const bigS = Buffer.from((s + order).toString(16).padStart(64, '0'), 'hex').reverse();
    const malleated = Buffer.concat([signature.subarray(0, 32), bigS]);

    expect(naclVerify(message, malleated, pair.publicKey)).toBe(true);
    expect(sut.verify(message, malleated)).toBe(false);
  });

  it('refuses a public key of the wrong length', () => {
    const error = thrown(() => new Ed25519Verifier(Buffer.alloc(31), 'CONFIG_TRUSTED_KEYS cfg-1'));
    expect(error.code).toBe(CryptoErrorCode.InvalidKey);
    expect(error.message).toBe('CONFIG_TRUSTED_KEYS cfg-1 must be 32 bytes (got 31)');
  });
});

describe(signingPublicKeyOf.name, () => {
  it('returns the public half of a consistent secret key', () => {
    const pair = generateSigningKeyPair();
    expect(signingPublicKeyOf(pair.secretKey).equals(pair.publicKey)).toBe(true);
  });

  it('refuses a wrong length and a public half from another seed', () => {
    const pair = generateSigningKeyPair();
    const tampered = Buffer.from(pair.secretKey);
    tampered[63] ^= 1;

    expect(() => signingPublicKeyOf(Buffer.alloc(65))).toThrow(
      'Ed25519 secret key must be 64 bytes (got 65)',
    );
    expect(() => signingPublicKeyOf(tampered)).toThrow(CryptoError);
  });
});

describe(generateSigningKeyPair.name, () => {
  it('generates distinct tweetnacl-format key pairs', () => {
    const a = generateSigningKeyPair();
    const b = generateSigningKeyPair();

    expect(a.publicKey).toHaveLength(32);
    expect(a.secretKey).toHaveLength(64);
    expect(a.secretKey.subarray(32).equals(a.publicKey)).toBe(true);
    expect(a.secretKey.equals(b.secretKey)).toBe(false);
  });
});

describe(naclSign.name, () => {
  it('refuses a secret key of the wrong length with a CryptoError', () => {
    expect(() => naclSign(Buffer.from('m'), Buffer.alloc(32))).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidKey }),
    );
  });
});

describe(naclVerify.name, () => {
  it('returns false for a public key of the wrong length instead of throwing', () => {
    const pair = generateSigningKeyPair();
    const message = Buffer.from('m');
    const signature = naclSign(message, pair.secretKey);

    expect(naclVerify(message, signature, pair.publicKey)).toBe(true);
    expect(naclVerify(message, signature, pair.publicKey.subarray(0, 31))).toBe(false);
  });
});
