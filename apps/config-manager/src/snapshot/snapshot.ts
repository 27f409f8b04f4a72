import { hkdfSync } from 'node:crypto';
import type { SecretState, ServiceOrigin, VersionKind } from '@app/contracts';
import { type MasterKey, hmacSha256, verifyHmacSha256 } from '@app/crypto';

/** The file format this manager writes; a file of any other format is not read. */
export const SNAPSHOT_FORMAT = 1;
/** HKDF `info` of the snapshot's HMAC key: the master key is never used as-is for it. */
const KEY_INFO = 'config-centre/snapshot';

/** One secret of a service exactly as the store holds it: master-key ciphertext, never plaintext. */
export interface SnapshotSecret {
  path: string;
  keyId: string;
  /** base64 AES-256-GCM blob (see MasterKeyRing). */
  ciphertext: string;
  /**
   * The version bound in the ciphertext's additional data (SecretEntity.aadVersion); without it
   * the ciphertext does not open. Null for rows written before versions were bound.
   */
  aadVersion?: number | null;
  updatedAt: string;
  updatedBy: string;
}

/** One service in the snapshot: what it is registered as, its current version, its sealed secrets. */
export interface SnapshotService {
  name: string;
  description: string;
  origin: ServiceOrigin;
  schemaVersion: number;
  /** The service's current JSON Schema, so reads and envelopes can be served without the store. */
  jsonSchema: Record<string, unknown>;
  recipientKey: string | null;
  archivedAt: string | null;
  version: number;
  kind: VersionKind;
  updatedAt: string;
  updatedBy: string;
  schemaHash: string;
  config: Record<string, unknown>;
  secretStates: Record<string, SecretState>;
  secrets: SnapshotSecret[];
}

/** What the snapshot holds: every service's current published state. */
export interface SnapshotBody {
  writtenAt: string;
  services: SnapshotService[];
}

/** The file on disk: the body as the exact JSON text the HMAC covers, and the HMAC. */
interface SnapshotEnvelope {
  format: number;
  /** Id of the master key the HMAC key was derived from. */
  keyId: string;
  body: string;
  hmac: string;
}

/** Why a snapshot file was not used. */
export type SnapshotProblem = 'malformed' | 'format' | 'unknown-key' | 'hmac';

/** Reading a snapshot file: its body, or why it is not to be believed. */
export type SnapshotReading =
  { ok: true; body: SnapshotBody; keyId: string } | { ok: false; problem: SnapshotProblem };

/** The HMAC key of snapshots under `masterKey`: HKDF-SHA256(masterKey, info "config-centre/snapshot"). */
export function snapshotKey(masterKey: MasterKey): Buffer {
  let key = derivedKeys.get(masterKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', masterKey.key, Buffer.alloc(0), KEY_INFO, 32));
    derivedKeys.set(masterKey, key);
  }
  return key;
}

// Derived once per master key (HKDF showed in the write path's profile).
const derivedKeys = new WeakMap<MasterKey, Buffer>();

/** The bytes the HMAC covers: the format and the body, so neither can be swapped alone. */
function signedBytes(format: number, body: string): Buffer {
  return Buffer.from(`${KEY_INFO}\0${format}\0${body}`, 'utf8');
}

/** The file text of a snapshot, HMAC'd under the current master key. */
export function sealSnapshot(body: SnapshotBody, masterKey: MasterKey): string {
  const text = JSON.stringify(body);
  const envelope: SnapshotEnvelope = {
    format: SNAPSHOT_FORMAT,
    keyId: masterKey.id,
    body: text,
    hmac: hmacSha256(snapshotKey(masterKey), signedBytes(SNAPSHOT_FORMAT, text)).toString('base64'),
  };
  return `${JSON.stringify(envelope, null, 1)}\n`;
}

/**
 * Verifies and parses a snapshot file under any of `keys` (the current master key and the
 * previous ones: a snapshot written before a rotation still checks). Nothing of the body is
 * parsed before the HMAC verifies.
 */
export function openSnapshot(text: string, keys: readonly MasterKey[]): SnapshotReading {
  let envelope: Partial<SnapshotEnvelope>;
  try {
    envelope = JSON.parse(text) as Partial<SnapshotEnvelope>;
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.body !== 'string' ||
    typeof envelope.hmac !== 'string' ||
    typeof envelope.keyId !== 'string'
  ) {
    return { ok: false, problem: 'malformed' };
  }
  if (envelope.format !== SNAPSHOT_FORMAT) return { ok: false, problem: 'format' };
  const key = keys.find((k) => k.id === envelope.keyId);
  if (!key) return { ok: false, problem: 'unknown-key' };
  const mac = Buffer.from(envelope.hmac, 'base64');
  if (!verifyHmacSha256(snapshotKey(key), signedBytes(SNAPSHOT_FORMAT, envelope.body), mac)) {
    return { ok: false, problem: 'hmac' };
  }
  try {
    const body = JSON.parse(envelope.body) as SnapshotBody;
    if (!Array.isArray(body.services)) return { ok: false, problem: 'malformed' };
    return { ok: true, body, keyId: key.id };
  } catch {
    return { ok: false, problem: 'malformed' };
  }
}
