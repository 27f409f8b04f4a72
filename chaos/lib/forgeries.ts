import { ENVELOPE_ALG, MAX_ENVELOPE_BYTES, type SignedEnvelope } from '@app/contracts';
import { generateSigningKeyPair } from '@app/crypto';
import { signEnvelope } from '@app/testing';

/** One hostile config message and the rejection reason every worker must report for it. */
export interface Forgery {
  name: string;
  bytes: Buffer;
  reason: string;
}

/** What the attacker works from. */
export interface ForgeryMaterial {
  /** A genuine envelope of an older version, as recorded off the bus. */
  older: Buffer;
  /** The genuine envelope of the current version. */
  current: Buffer;
  /** The trusted key id (public knowledge: GET /api/keys). */
  kid: string;
  /**
   * The manager's signing key, used only to stand for an envelope the manager signed for
   * another service (the attacker copies it from that service's topic).
   */
  managerKey: Buffer;
}

/**
 * Every forgery an attacker with write access to system/config/dedup-worker can make: a replay
 * of an older genuine envelope, payloads signed with the attacker's own key (under the trusted
 * kid and under an unknown one), a genuine envelope with its payload tampered, a genuine
 * envelope of another service, a wrong algorithm, garbage, and an oversized message.
 */
export function forgeries(material: ForgeryMaterial): Forgery[] {
  const current = JSON.parse(material.current.toString('utf8')) as SignedEnvelope;
  const payload = JSON.parse(Buffer.from(current.payload, 'base64').toString('utf8')) as {
    version: number;
    config: Record<string, unknown>;
  };
  const next = { ...payload, version: payload.version + 1, config: hostileConfig(payload.config) };
  const attacker = generateSigningKeyPair().secretKey;
  return [
    { name: 'replay of an older version', bytes: material.older, reason: 'stale' },
    {
      name: 'signed with the attacker key under the trusted kid',
      bytes: sign(next, attacker, material.kid),
      reason: 'signature',
    },
    {
      name: 'signed with an unknown kid',
      bytes: sign(next, attacker, 'cfg-attacker'),
      reason: 'unknown-key',
    },
    {
      name: 'genuine envelope with a tampered payload',
      bytes: envelope({ ...current, payload: base64Json(next) }),
      reason: 'signature',
    },
    {
      name: "another service's genuine envelope",
      bytes: sign({ ...next, service: 'billing-sync' }, material.managerKey, material.kid),
      reason: 'service',
    },
    {
      name: 'unsupported algorithm',
      bytes: envelope({ ...current, alg: 'HS256' as typeof ENVELOPE_ALG }),
      reason: 'unsupported-alg',
    },
    { name: 'not JSON', bytes: Buffer.from('\u0000garbage{"alg":'), reason: 'malformed' },
    {
      name: 'oversized',
      bytes: Buffer.alloc(MAX_ENVELOPE_BYTES + 1, 0x20),
      reason: 'oversized',
    },
  ];
}

/** The current config with every threshold at its most permissive: what an attacker wants. */
function hostileConfig(config: Record<string, unknown>): Record<string, unknown> {
  return { ...config, thresholds: { high: 0.01, low: 0 } };
}

function sign(payload: object, secretKey: Buffer, kid: string): Buffer {
  return signEnvelope(payload, { kid, secretKey });
}

function envelope(value: SignedEnvelope): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function base64Json(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}
