import { serviceDefinitions } from '@app/contracts';
import {
  boxPublicKeyOf,
  formatKeyList,
  generateBoxKeyPair,
  generateSigningKeyPair,
  randomBase64,
  signingPublicKeyOf,
} from '@app/crypto';

/** The env variable a compose file maps to a worker's CONFIG_SECRET_KEY, per service. */
export function workerSecretKeyVariable(service: string): string {
  return `${service.toUpperCase().replace(/-/g, '_')}_CONFIG_SECRET_KEY`;
}

/** A default signing key id: `cfg-<year>-<month>`, so rotations read naturally. */
export function defaultKeyId(now = new Date()): string {
  return `cfg-${now.toISOString().slice(0, 7)}`;
}

/** Fresh keys for a whole deployment, as ready-to-paste env lines with comments. */
export function generateKeySet(
  keyId: string,
  services = serviceDefinitions().map((d) => d.name),
): string[] {
  const signing = generateSigningKeyPair();
  const boxes = services.map((service) => ({ service, pair: generateBoxKeyPair() }));
  return [
    `# Generated ${new Date().toISOString()} by "npm run keys -- generate". Keep out of git.`,
    '',
    '# --- config-manager ---',
    `CONFIG_SIGNING_KEY_ID=${keyId}`,
    `CONFIG_SIGNING_KEY=${signing.secretKey.toString('base64')}`,
    `CONFIG_MASTER_KEY=${randomBase64(32)}`,
    `SERVICE_RECIPIENT_KEYS=${formatKeyList(boxes.map((b) => ({ id: b.service, key: b.pair.publicKey })))}`,
    '',
    '# --- every worker: the signing keys it trusts, and the key protecting its last-known-good file ---',
    `CONFIG_TRUSTED_KEYS=${keyId}:${signing.publicKey.toString('base64')}`,
    `LKG_HMAC_KEY=${randomBase64(32)}`,
    '',
    "# --- each worker service's own X25519 secret key (give it to that service as CONFIG_SECRET_KEY) ---",
    ...boxes.map(
      (b) => `${workerSecretKeyVariable(b.service)}=${b.pair.secretKey.toString('base64')}`,
    ),
  ];
}

/** A new signing key pair only, for rotation. */
export function generateSigningLines(keyId: string): string[] {
  const signing = generateSigningKeyPair();
  return [
    `# New signing key ${keyId}: set these on config-manager, and move the old key id and public key`,
    '# (npm run keys -- public-key) into CONFIG_SIGNING_KEYS_PREVIOUS until every worker trusts the new one.',
    `CONFIG_SIGNING_KEY_ID=${keyId}`,
    `CONFIG_SIGNING_KEY=${signing.secretKey.toString('base64')}`,
    "# Add to every worker's CONFIG_TRUSTED_KEYS (comma-separated, next to the old entry):",
    `${keyId}:${signing.publicKey.toString('base64')}`,
  ];
}

/** `kid:publicKey` of a signing secret key (for CONFIG_TRUSTED_KEYS and CONFIG_SIGNING_KEYS_PREVIOUS). */
export function publicKeyLine(keyId: string, secretKeyB64: string): string {
  return `${keyId}:${signingPublicKeyOf(Buffer.from(secretKeyB64, 'base64')).toString('base64')}`;
}

/** `service:publicKey` of a worker's X25519 secret key (for SERVICE_RECIPIENT_KEYS). */
export function recipientKeyLine(service: string, secretKeyB64: string): string {
  return `${service}:${boxPublicKeyOf(Buffer.from(secretKeyB64, 'base64')).toString('base64')}`;
}

/**
 * A fresh X25519 pair for a service registered over the API: its public half is the
 * registration's `recipientKey`, its secret half the workers' CONFIG_SECRET_KEY.
 */
export function generateServiceKeyLines(service: string): string[] {
  const pair = generateBoxKeyPair();
  return [
    `# X25519 pair of ${service}. The public half goes into its registration`,
    `# (PUT /api/services/${service} with "recipientKey"), the secret half to its workers only.`,
    `RECIPIENT_KEY=${pair.publicKey.toString('base64')}`,
    `${workerSecretKeyVariable(service)}=${pair.secretKey.toString('base64')}`,
  ];
}
