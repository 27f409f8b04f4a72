import { type DevKeysFile, type EnvFieldContext, serviceDefinitions } from '@app/contracts';
import {
  boxPublicKeyOf,
  CryptoError,
  decodeBase64Key,
  formatKeyList,
  generateBoxKeyPair,
  generateSigningKeyPair,
  type KeyListEntry,
  parseKeyList,
  signingPublicKeyOf,
} from '@app/crypto';

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

/** CONFIG_SIGNING_KEY with the public half it implies. */
export interface SigningKeyPair {
  secretKey: Buffer;
  publicKey: Buffer;
}

/** A signing key id: what CONFIG_SIGNING_KEY_ID may hold. */
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function message(e: unknown, fallback: string): string {
  return e instanceof CryptoError ? e.message : fallback;
}

/** CONFIG_SIGNING_KEY: a 64-byte tweetnacl Ed25519 secret key whose halves agree. */
export function parseSigningKey(raw: string, ctx: EnvFieldContext): SigningKeyPair | undefined {
  try {
    const secretKey = decodeBase64Key(raw, 64, ctx.name);
    return { secretKey, publicKey: signingPublicKeyOf(secretKey) };
  } catch (e) {
    ctx.problem(message(e, `${ctx.name} is invalid`));
    return undefined;
  }
}

/** Development CONFIG_SIGNING_KEY: generated once into DATA_DIR. */
export function devSigningKey(keys: DevKeysFile): string {
  return keys.getOrGenerate('CONFIG_SIGNING_KEY', () =>
    generateSigningKeyPair().secretKey.toString('base64'),
  );
}

/** Development CONFIG_SIGNING_KEY_ID, only beside a development signing key. */
export function devSigningKeyId(keys: DevKeysFile, ctx: EnvFieldContext): string | undefined {
  return ctx.sourceOf('CONFIG_SIGNING_KEY') === 'dev-keys'
    ? keys.getOrGenerate(
        'CONFIG_SIGNING_KEY_ID',
        () => `dev-${new Date().toISOString().slice(0, 7)}`,
      )
    : undefined;
}

/**
 * SERVICE_RECIPIENT_KEYS (`service:base64X25519Public,…`), each naming a registered service.
 */
export function parseRecipientKeys(
  raw: string,
  ctx: EnvFieldContext,
): ReadonlyMap<string, Buffer> | undefined {
  let entries: KeyListEntry[];
  try {
    entries = parseKeyList(raw, 32, ctx.name);
  } catch (e) {
    ctx.problem(message(e, `${ctx.name} is invalid`));
    return undefined;
  }
  const known = new Set(serviceDefinitions().map((d) => d.name));
  const unknown = entries.filter((e) => !known.has(e.id));
  for (const entry of unknown) {
    ctx.problem(
      `SERVICE_RECIPIENT_KEYS names "${entry.id}", which is not a registered service (${[...known].join(', ')})`,
    );
  }
  return unknown.length > 0 ? undefined : new Map(entries.map((e) => [e.id, e.key]));
}

/**
 * Development SERVICE_RECIPIENT_KEYS: a key pair per registered service is generated into
 * DATA_DIR as SERVICE_SECRET_KEYS (the secret halves, which a local worker opens its secrets
 * with); the manager seals to their public halves.
 */
export function devRecipientKeys(keys: DevKeysFile, ctx: EnvFieldContext): string | undefined {
  const secrets = keys.getOrGenerate('SERVICE_SECRET_KEYS', () =>
    formatKeyList(
      serviceDefinitions().map((d) => ({ id: d.name, key: generateBoxKeyPair().secretKey })),
    ),
  );
  try {
    return formatKeyList(
      parseKeyList(secrets, 32, `${keys.path} SERVICE_SECRET_KEYS`).map((e) => ({
        id: e.id,
        key: boxPublicKeyOf(e.key),
      })),
    );
  } catch (e) {
    ctx.problem(
      `SERVICE_RECIPIENT_KEYS is not set and cannot be derived: ${message(e, 'invalid key')}`,
    );
    return undefined;
  }
}
