import type { SealedSecretJson } from '@app/contracts';
import { CryptoError, openSealedSecret } from '@app/crypto';
import { premise } from './vector-case';
import { sealWithLabel, type VectorBoxKey, type VectorKeys } from './vector-keys';

/** What openSealedSecret does with a sealed secret, in the files' words. */
export type SealedSecretExpect = { opens: true; value: string } | { opens: false };

/** One case of sealed-secrets.json. */
export interface SealedSecretVector {
  name: string;
  description: string;
  recipientSecretKey: string;
  sealed: object;
  expect: SealedSecretExpect;
}

interface CaseSpec {
  readonly name: string;
  readonly description: string;
  readonly recipient?: VectorBoxKey;
  readonly sealed: object;
  /** The value it is meant to open to, or undefined when it is meant not to open. */
  readonly opensTo?: string;
}

/** What openSealedSecret gives for `sealed` with `secretKey` (UTF-8 text), or that it refuses it. */
export function sealedExpectOf(sealed: unknown, secretKey: Buffer): SealedSecretExpect {
  try {
    return { opens: true, value: openSealedSecret(sealed, secretKey).toString('utf8') };
  } catch (error) {
    if (error instanceof CryptoError) return { opens: false };
    throw error;
  }
}

/**
 * sealed-secrets.json: sealed secrets (NaCl box, X25519 + XSalsa20-Poly1305, from a one-time key
 * to the recipient) and whether libs/crypto's openSealedSecret opens them, with what value.
 * The description names the field in the wrong; the box format is the envelope's `secrets`.
 */
export function sealedSecretVectors(keys: VectorKeys): Record<string, unknown> {
  const cases = sealedSecretCases(keys).map((spec): SealedSecretVector => {
    const recipient = spec.recipient ?? keys.recipient;
    const expect = sealedExpectOf(spec.sealed, recipient.secretKey);
    const meant: SealedSecretExpect =
      spec.opensTo === undefined ? { opens: false } : { opens: true, value: spec.opensTo };
    if (JSON.stringify(expect) !== JSON.stringify(meant)) {
      throw new Error(
        `test vectors: sealed-secrets.json case ${spec.name} is meant to give ${JSON.stringify(meant)}, but the code gives ${JSON.stringify(expect)}`,
      );
    }
    return {
      name: spec.name,
      description: spec.description,
      recipientSecretKey: recipient.secretKey.toString('base64'),
      sealed: spec.sealed,
      expect,
    };
  });
  premise(new Set(cases.map((c) => c.name)).size === cases.length, 'case names are unique');
  return { cases };
}

function sealedSecretCases(keys: VectorKeys): CaseSpec[] {
  const seal = (label: string, value: string): SealedSecretJson =>
    sealWithLabel(`sealed-secrets ${label}`, value, keys.recipient.publicKey);
  const flip = (base64: string, index: number): string => {
    const bytes = Buffer.from(base64, 'base64');
    bytes[index < 0 ? bytes.length + index : index] ^= 0x01;
    return bytes.toString('base64');
  };
  const resized = (base64: string, length: number): string => {
    const bytes = Buffer.from(base64, 'base64');
    return (
      length <= bytes.length ? bytes.subarray(0, length) : Buffer.concat([bytes, Buffer.alloc(1)])
    ).toString('base64');
  };
  const good = seal('good', 'sk-live-0123456789');
  const value = 'sk-live-0123456789';
  const nonAscii = 'pässwörd 🔑 ключ 鍵 e\u0301';

  return [
    {
      name: 'opens-ascii',
      description: 'An ASCII secret sealed to the recipient.',
      sealed: good,
      opensTo: value,
    },
    {
      name: 'opens-non-ascii',
      description:
        'A secret with Latin-1, astral (emoji), Cyrillic, CJK and a combining mark: the box holds its raw UTF-8 bytes.',
      sealed: seal('non-ascii', nonAscii),
      opensTo: nonAscii,
    },
    {
      name: 'opens-empty',
      description: 'The empty secret: a 16-byte box (the Poly1305 tag alone).',
      sealed: seal('empty', ''),
      opensTo: '',
    },
    {
      name: 'opens-long',
      description: 'A 1000-character secret.',
      sealed: seal('long', 'x'.repeat(1000)),
      opensTo: 'x'.repeat(1000),
    },
    {
      name: 'opens-with-extra-field',
      description: 'A field besides alg, epk, nonce and box: ignored.',
      sealed: { ...good, note: 'ignored' },
      opensTo: value,
    },
    {
      name: 'wrong-recipient-key',
      description: 'Opened with another recipient’s secret key.',
      recipient: keys.otherRecipient,
      sealed: good,
    },
    {
      name: 'tampered-box-ciphertext',
      description: 'The last byte of the box (ciphertext) flipped.',
      sealed: { ...good, box: flip(good.box, -1) },
    },
    {
      name: 'tampered-box-tag',
      description: 'The first byte of the box (the Poly1305 tag) flipped.',
      sealed: { ...good, box: flip(good.box, 0) },
    },
    {
      name: 'tampered-nonce',
      description: 'One byte of the nonce flipped.',
      sealed: { ...good, nonce: flip(good.nonce, 0) },
    },
    {
      name: 'tampered-epk',
      description: 'One byte of the ephemeral public key flipped.',
      sealed: { ...good, epk: flip(good.epk, 0) },
    },
    {
      name: 'nonce-23-bytes',
      description: 'The nonce cut to 23 bytes (it must be 24).',
      sealed: { ...good, nonce: resized(good.nonce, 23) },
    },
    {
      name: 'nonce-25-bytes',
      description: 'The nonce with a 25th byte.',
      sealed: { ...good, nonce: resized(good.nonce, 25) },
    },
    {
      name: 'epk-31-bytes',
      description: 'The ephemeral public key cut to 31 bytes (it must be 32).',
      sealed: { ...good, epk: resized(good.epk, 31) },
    },
    {
      name: 'box-15-bytes',
      description: 'A box shorter than the 16-byte tag.',
      sealed: { ...good, box: resized(good.box, 15) },
    },
    {
      name: 'box-without-padding',
      description:
        'The box base64 without its "=" padding: only canonical standard base64 is read.',
      sealed: { ...good, box: good.box.replace(/=+$/, '') },
    },
    {
      name: 'nonce-url-safe-alphabet',
      description: 'The nonce in the url-safe base64 alphabet.',
      sealed: { ...good, nonce: toUrlSafe(good.nonce) },
    },
    {
      name: 'alg-wrong',
      description:
        'alg "x25519-xsalsa20-poly1305-v2": the alg must be exactly x25519-xsalsa20-poly1305.',
      sealed: { ...good, alg: 'x25519-xsalsa20-poly1305-v2' },
    },
    {
      name: 'alg-missing',
      description: 'No alg field.',
      sealed: { epk: good.epk, nonce: good.nonce, box: good.box },
    },
    {
      name: 'nonce-missing',
      description: 'No nonce field.',
      sealed: { alg: good.alg, epk: good.epk, box: good.box },
    },
    {
      name: 'box-not-a-string',
      description: 'box is an array of byte values instead of base64 text.',
      sealed: { ...good, box: [...Buffer.from(good.box, 'base64')] },
    },
  ];
}

function toUrlSafe(base64: string): string {
  const urlSafe = base64.replace(/\+/g, '-').replace(/\//g, '_');
  premise(urlSafe !== base64, `${base64} has a + or / to spell url-safe`);
  return urlSafe;
}
