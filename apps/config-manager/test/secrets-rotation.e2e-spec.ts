import { randomBytes } from 'node:crypto';
import { masterKeyFromBase64 } from '@app/crypto';
import { bearer, TOKENS } from '@app/testing';
import { SecretsService } from '../src/secrets/secrets.service';
import { startManager, TestManager } from './support/test-app';

const admin = bearer(TOKENS.admin);
const SECRET_URL = '/api/services/dedup-worker/secrets/ai.api_key';
const newKey = () => randomBytes(32).toString('base64');

describe('master key rotation', () => {
  let sut: TestManager | undefined;

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
  });

  it('reads secrets under the previous key, re-encrypts them, then runs on the new key alone', async () => {
    const oldKey = newKey();
    const first = await startManager({ store: 'sqlite', env: { CONFIG_MASTER_KEY: oldKey } });
    sut = first;
    await first.http().put(SECRET_URL).set(admin).send({ value: 'sk-rotate-me' }).expect(204);
    await first.stop();

    const currentKey = newKey();
    const rotating = await startManager({
      store: 'sqlite',
      reuse: first,
      env: { CONFIG_MASTER_KEY: currentKey, CONFIG_MASTER_KEYS_PREVIOUS: oldKey },
    });
    sut = rotating;
    expect(rotating.logs.text()).toContain('still sealed with a previous master key');
    // Same value again is recognised (so the old blob decrypts): no new version.
    const same = await rotating
      .http()
      .put(SECRET_URL)
      .set(admin)
      .send({ value: 'sk-rotate-me' })
      .expect(204);
    expect(same.headers.etag).toBe('"2"');

    const result = await rotating.app.get(SecretsService).rotateAll();
    expect(result).toEqual({ total: 1, reencrypted: 1, keyId: masterKeyFromBase64(currentKey).id });
    await rotating.stop();

    const rotated = await startManager({
      store: 'sqlite',
      reuse: first,
      env: { CONFIG_MASTER_KEY: currentKey },
    });
    sut = rotated;
    expect(rotated.logs.text()).not.toContain('previous master key');
    const again = await rotated
      .http()
      .put(SECRET_URL)
      .set(admin)
      .send({ value: 'sk-rotate-me' })
      .expect(204);
    expect(again.headers.etag).toBe('"2"');
    await rotated.stop();

    const stranger = newKey();
    await expect(
      startManager({ store: 'sqlite', reuse: first, env: { CONFIG_MASTER_KEY: stranger } }),
    ).rejects.toThrow(masterKeyFromBase64(currentKey).id);
    sut = await startManager({
      store: 'sqlite',
      reuse: first,
      env: { CONFIG_MASTER_KEY: currentKey },
    });
  });
});
