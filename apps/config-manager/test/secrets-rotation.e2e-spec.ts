import { randomBytes } from 'node:crypto';
import { masterKeyFromBase64 } from '@app/crypto';
import { SecretsService } from '../src/secrets/secrets.service';
import { startManager, TestManager } from './support/test-app';

/** Sets the same value each time: a secret a rotation must carry over unchanged. */
const putSecret = (manager: TestManager) =>
  manager.api.putSecret('dedup-worker', 'ai.api_key', 'sk-rotate-me').expect(204);
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
    await putSecret(first);
    await first.stop();

    const currentKey = newKey();
    const rotating = await startManager({
      store: 'sqlite',
      reuse: first,
      env: { CONFIG_MASTER_KEY: currentKey, CONFIG_MASTER_KEYS_PREVIOUS: oldKey },
    });
    sut = rotating;
    expect(rotating.logs.text()).toContain('still encrypted with a previous master key');
    // Same value again is recognised (so the old blob decrypts): no new version.
    const same = await putSecret(rotating);
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
    const again = await putSecret(rotated);
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
