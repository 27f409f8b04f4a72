import { serviceDefinitions } from '@app/contracts';
import {
  boxPublicKeyOf,
  CryptoError,
  decodeBase64Key,
  formatKeyList,
  generateBoxKeyPair,
  generateSigningKeyPair,
  parseKeyList,
  signingPublicKeyOf,
} from '@app/crypto';
import type { DevKeyFile } from './dev-key-file';

type Env = Readonly<Record<string, string | undefined>>;

/** A public signing key still listed by GET /api/keys after rotation. */
export interface PublicSigningKey {
  kid: string;
  publicKey: Buffer;
}

/** The Ed25519 key that signs new versions, and retired public keys still published. */
export interface SigningSettings {
  keyId: string;
  secretKey: Buffer;
  publicKey: Buffer;
  previous: PublicSigningKey[];
}

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function message(e: unknown, fallback: string): string {
  return e instanceof CryptoError ? e.message : fallback;
}

/** Reads CONFIG_SIGNING_KEY(_ID) and CONFIG_SIGNING_KEYS_PREVIOUS; generates a dev key pair if allowed. */
export function parseSigningSettings(
  env: Env,
  devKeys: DevKeyFile,
  problems: string[],
): SigningSettings | undefined {
  let secretB64 = env.CONFIG_SIGNING_KEY?.trim();
  let keyId = env.CONFIG_SIGNING_KEY_ID?.trim();
  if (!secretB64) {
    const generated = devKeys.getOrGenerate('CONFIG_SIGNING_KEY', () =>
      generateSigningKeyPair().secretKey.toString('base64'),
    );
    if (!generated) {
      problems.push(
        'CONFIG_SIGNING_KEY is required in production (generate keys with: npm run keys -- generate)',
      );
      return undefined;
    }
    secretB64 = generated;
    keyId =
      keyId ||
      devKeys.getOrGenerate(
        'CONFIG_SIGNING_KEY_ID',
        () => `dev-${new Date().toISOString().slice(0, 7)}`,
      );
  }
  if (!keyId) {
    problems.push('CONFIG_SIGNING_KEY_ID is required with CONFIG_SIGNING_KEY (e.g. cfg-2026-11)');
    return undefined;
  }
  if (!KEY_ID.test(keyId)) {
    problems.push('CONFIG_SIGNING_KEY_ID must be 1-64 letters, digits, . _ - (e.g. cfg-2026-11)');
  }
  let secretKey: Buffer;
  let publicKey: Buffer;
  try {
    secretKey = decodeBase64Key(secretB64, 64, 'CONFIG_SIGNING_KEY');
    publicKey = signingPublicKeyOf(secretKey);
  } catch (e) {
    problems.push(message(e, 'CONFIG_SIGNING_KEY is invalid'));
    return undefined;
  }
  let previous: PublicSigningKey[] = [];
  try {
    previous = parseKeyList(
      env.CONFIG_SIGNING_KEYS_PREVIOUS ?? '',
      32,
      'CONFIG_SIGNING_KEYS_PREVIOUS',
    ).map((e) => ({ kid: e.id, publicKey: e.key }));
  } catch (e) {
    problems.push(message(e, 'CONFIG_SIGNING_KEYS_PREVIOUS is invalid'));
  }
  if (previous.some((p) => p.kid === keyId)) {
    problems.push(
      `CONFIG_SIGNING_KEYS_PREVIOUS lists ${keyId}, the current CONFIG_SIGNING_KEY_ID; give the new key a new id`,
    );
  }
  return { keyId, secretKey, publicKey, previous };
}

/**
 * Reads SERVICE_RECIPIENT_KEYS (`service:base64X25519Public,…`). In development a key pair per
 * registered service is generated into DATA_DIR (the secret half is what a local worker opens
 * its secrets with: SERVICE_SECRET_KEYS there).
 */
export function parseRecipientKeys(
  env: Env,
  devKeys: DevKeyFile,
  problems: string[],
): ReadonlyMap<string, Buffer> {
  let raw = env.SERVICE_RECIPIENT_KEYS?.trim();
  if (!raw) {
    const generated = devKeys.getOrGenerate('SERVICE_SECRET_KEYS', () =>
      formatKeyList(
        serviceDefinitions().map((d) => ({ id: d.name, key: generateBoxKeyPair().secretKey })),
      ),
    );
    if (generated) {
      raw = formatKeyList(
        parseKeyList(generated, 32, 'SERVICE_SECRET_KEYS').map((e) => ({
          id: e.id,
          key: boxPublicKeyOf(e.key),
        })),
      );
    }
  }
  try {
    const entries = parseKeyList(raw ?? '', 32, 'SERVICE_RECIPIENT_KEYS');
    const known = new Set(serviceDefinitions().map((d) => d.name));
    for (const unknown of entries.filter((e) => !known.has(e.id))) {
      problems.push(
        `SERVICE_RECIPIENT_KEYS names "${unknown.id}", which is not a registered service (${[...known].join(', ')})`,
      );
    }
    return new Map(entries.map((e) => [e.id, e.key]));
  } catch (e) {
    problems.push(message(e, 'SERVICE_RECIPIENT_KEYS is invalid'));
    return new Map();
  }
}
