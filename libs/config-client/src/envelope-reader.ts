import { ENVELOPE_ALG, isPlainObject } from '@app/contracts';
import { decodeStrictBase64, type Ed25519Verifier } from '@app/crypto';

/** Why an envelope could not be read, in the words of worker rules 0 to 2. */
export type EnvelopeReadFailure =
  'oversized' | 'malformed' | 'unsupported-alg' | 'unknown-key' | 'signature';

/** A message on a config topic after rules 0-2: authentic bytes parsed, or why not. */
export type EnvelopeReading =
  | {
      readonly ok: true;
      readonly kid: string;
      /** The exact signed bytes. */
      readonly payloadBytes: Buffer;
      /** The signed payload as parsed JSON: authentic, but every field still to be checked. */
      readonly payload: Record<string, unknown>;
    }
  | { readonly ok: false; readonly reason: EnvelopeReadFailure; readonly detail: string };

// Attacker-chosen strings (kid, service) are echoed only this far.
const MAX_ECHO = 64;

/**
 * Worker rules 0 to 2 on the raw bytes of a config message: the size before anything is
 * parsed, the envelope's JSON and its canonical standard base64, `alg`, a trusted `kid`, the signature over
 * the exact payload bytes, then the payload as a JSON object. Never throws; the manager reads
 * its own retained messages with it, the SDK's EnvelopeVerifier goes on with rules 3 to 6.
 */
export function readSignedEnvelope(
  bytes: Uint8Array,
  verifiers: ReadonlyMap<string, Ed25519Verifier>,
  maxBytes: number,
): EnvelopeReading {
  // Rule 0: size before anything else, so a huge message costs no parsing.
  if (bytes.length > maxBytes) {
    return failure(
      'oversized',
      `envelope is ${bytes.length} bytes, more than the limit of ${maxBytes}`,
    );
  }

  // Rule 1: the envelope parses, names Ed25519 and a trusted key.
  const envelope = parseJsonObject(bytes);
  if (envelope === undefined) {
    return failure('malformed', 'envelope is not a UTF-8 JSON object');
  }
  const alg = ownField(envelope, 'alg');
  const kid = ownField(envelope, 'kid');
  const payloadText = ownField(envelope, 'payload');
  const sigText = ownField(envelope, 'sig');
  if (
    typeof alg !== 'string' ||
    typeof kid !== 'string' ||
    typeof payloadText !== 'string' ||
    typeof sigText !== 'string'
  ) {
    return failure('malformed', 'envelope must have string fields alg, kid, payload and sig');
  }
  // Standard base64 is part of parsing (rule 1), so its failure is `malformed`, before alg and kid.
  const payloadBytes = decodeStrictBase64(payloadText);
  const signature = decodeStrictBase64(sigText);
  if (payloadBytes === undefined || signature === undefined) {
    return failure('malformed', 'payload or sig is not canonical standard base64');
  }
  if (alg !== ENVELOPE_ALG) {
    return failure('unsupported-alg', `envelope alg ${echo(alg)} is not ${ENVELOPE_ALG}`);
  }
  const verifier = verifiers.get(kid);
  if (verifier === undefined) {
    return failure(
      'unknown-key',
      `envelope kid ${echo(kid)} is not a trusted key (trusted: ${[...verifiers.keys()].join(', ')})`,
    );
  }

  // Rule 2: the signature over the exact payload bytes.
  if (!verifier.verify(payloadBytes, signature)) {
    return failure('signature', `signature does not verify with key ${kid}`);
  }
  const payload = parseJsonObject(payloadBytes);
  if (payload === undefined) {
    return failure('malformed', 'signed payload is not a UTF-8 JSON object');
  }
  return { ok: true, kid, payloadBytes, payload };
}

/** A payload field as the manager wrote it: own properties only (JSON.parse can make `__proto__`). */
export function ownField(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** A version number as payloads carry it: a positive safe integer. */
export function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** An attacker-chosen string, quoted and cut short, for a log line. */
export function echo(value: string): string {
  return JSON.stringify(value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value);
}

/**
 * Fatal decoding: bytes that are not UTF-8 are refused rather than repaired into something else,
 * and a leading byte order mark is kept (so JSON.parse refuses it, as strict parsers in other
 * languages do, and a secret's bytes stay exactly what was sealed).
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function failure(reason: EnvelopeReadFailure, detail: string): EnvelopeReading {
  return { ok: false, reason, detail };
}
