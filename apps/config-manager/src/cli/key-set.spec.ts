import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boxPublicKeyOf, naclVerify, signingPublicKeyOf, Ed25519Signer } from '@app/crypto';
import { loadSettings } from '../settings/settings';
import {
  generateKeySet,
  generateServiceKeyLines,
  publicKeyLine,
  recipientKeyLine,
  workerSecretKeyVariable,
} from './key-set';

function asEnv(lines: string[]): Record<string, string> {
  return Object.fromEntries(
    lines
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe(generateKeySet.name, () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cm-keys-'));
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints env lines a production manager starts with, generating nothing', () => {
    const env = asEnv(generateKeySet('cfg-2026-11'));

    const sut = loadSettings(
      {
        ...env,
        NODE_ENV: 'production',
        DATA_DIR: dataDir,
        // The two production settings that are not keys.
        MQTT_URL: 'mqtt://broker:1883',
        API_TOKENS: JSON.stringify([
          { name: 'ops', roles: ['admin'], token: 'ops-token-0123456789abcdef' },
        ]),
      },
      { warn: () => undefined },
    );

    expect(sut.signing.keyId).toBe('cfg-2026-11');
    expect(sut.recipientKeys.get('dedup-worker')).toHaveLength(32);
  });

  it('pairs every half: the trusted key verifies the signing key, the worker secret opens its recipient key', () => {
    const env = asEnv(generateKeySet('cfg-2026-11'));
    const [kid, trustedB64] = env.CONFIG_TRUSTED_KEYS.split(':');
    const message = Buffer.from('payload');
    const signature = new Ed25519Signer(Buffer.from(env.CONFIG_SIGNING_KEY, 'base64')).sign(
      message,
    );

    expect(kid).toBe('cfg-2026-11');
    expect(naclVerify(message, signature, Buffer.from(trustedB64, 'base64'))).toBe(true);
    const workerSecret = Buffer.from(env[workerSecretKeyVariable('dedup-worker')], 'base64');
    expect(env.SERVICE_RECIPIENT_KEYS).toBe(
      `dedup-worker:${boxPublicKeyOf(workerSecret).toString('base64')}`,
    );
    expect(Buffer.from(env.LKG_HMAC_KEY, 'base64')).toHaveLength(32);
    expect(Buffer.from(env.CONFIG_MASTER_KEY, 'base64')).toHaveLength(32);
  });

  it('derives the public lines used for rotation from the secret keys', () => {
    const env = asEnv(generateKeySet('cfg-2026-11'));
    const publicKey = signingPublicKeyOf(Buffer.from(env.CONFIG_SIGNING_KEY, 'base64')).toString(
      'base64',
    );

    expect(publicKeyLine('cfg-2026-11', env.CONFIG_SIGNING_KEY)).toBe(`cfg-2026-11:${publicKey}`);
    expect(recipientKeyLine('dedup-worker', env.DEDUP_WORKER_CONFIG_SECRET_KEY)).toBe(
      env.SERVICE_RECIPIENT_KEYS,
    );
  });
});

describe(generateServiceKeyLines.name, () => {
  it('prints a recipientKey and the secret key it belongs to, fresh each time', () => {
    const env = asEnv(generateServiceKeyLines('billing-worker'));
    const secret = Buffer.from(env.BILLING_WORKER_CONFIG_SECRET_KEY, 'base64');
    expect(secret).toHaveLength(32);
    expect(boxPublicKeyOf(secret).toString('base64')).toBe(env.RECIPIENT_KEY);
    expect(asEnv(generateServiceKeyLines('billing-worker')).RECIPIENT_KEY).not.toBe(
      env.RECIPIENT_KEY,
    );
  });
});
