import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  aesGcmEncrypt,
  formatKeyList,
  generateBoxKeyPair,
  masterKeyFromBase64,
  openSealedSecret,
} from '@app/crypto';
import {
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  startAedes,
  type StoreKind,
  type TestBroker,
  until,
} from '@app/testing';
import { SecretEntity } from '../src/secrets/secret.entity';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const PATH = 'ai.api_key';
const OLD_VALUE = 'sk-live-old-value-must-not-return';
const NEW_VALUE = 'sk-live-current-value-7f3a';
const HEALED_VALUE = 'sk-live-written-again-91bc';

const configOf = (version: number) => (m: ProbeMessage) =>
  m.topic === `system/config/${SERVICE}` &&
  m.payload.length > 0 &&
  readEnvelope(m.payload).payload.version === version;

describe.each<StoreKind>(['sqlite', 'postgres'])(
  'secrets bound to their version on %s',
  (store) => {
    const recipient = generateBoxKeyPair();
    const masterKey = randomBytes(32).toString('base64');
    let broker: TestBroker;
    let sut: TestManager;
    let probe: MqttProbe;

    const env = () => ({
      MQTT_URL: broker.url,
      CONFIG_MASTER_KEY: masterKey,
      SERVICE_RECIPIENT_KEYS: formatKeyList([{ id: SERVICE, key: recipient.publicKey }]),
    });
    const secrets = () => sut.app.get(DataSource).getRepository(SecretEntity);
    /** Restarts the manager on the same store and waits until it is connected to the broker. */
    const restart = async () => {
      await sut.stop();
      sut = await startManager({ store, reuse: sut, env: env() });
      await until(
        'the broker connected',
        async () => {
          const { body } = await sut.api.ready();
          return body.checks.broker?.status === 'up' ? true : undefined;
        },
        { timeoutMs: 5000 },
      );
    };
    const opened = (m: ProbeMessage) =>
      openSealedSecret(
        readEnvelope(m.payload).payload.secrets[PATH],
        recipient.secretKey,
      ).toString();

    beforeEach(async () => {
      broker = await startAedes();
      sut = await startManager({ store, env: env() });
      probe = await MqttProbe.connect(broker.url, [`system/config/${SERVICE}`]);
    });

    afterEach(async () => {
      await probe.close();
      await sut.close();
      await broker.stop();
    });

    it('a ciphertext copied back from an older version does not open as current: nothing is sent, a clear 409, no plaintext; a new write heals it', async () => {
      await sut.api.putSecret(SERVICE, PATH, OLD_VALUE).expect(204);
      const older = await secrets().findOneByOrFail({ service: SERVICE, path: PATH });
      expect(older.aadVersion).toBe(2);
      await sut.api.putSecret(SERVICE, PATH, NEW_VALUE).expect(204);
      expect(opened(await probe.waitFor(configOf(3), 'v3'))).toBe(NEW_VALUE);

      // Someone with write access to the database puts the older ciphertext (and its key id) back.
      await secrets().update(
        { service: SERVICE, path: PATH },
        { ciphertext: older.ciphertext, keyId: older.keyId },
      );
      await restart();

      const refused = await sut.api.republish(SERVICE).expect(409);
      expect(refused.body).toMatchObject({ code: 'SECRET_UNREADABLE' });
      expect(refused.body.message).toContain(`The stored secret ${PATH} of ${SERVICE}`);
      expect(refused.body.message).toContain('copied from another row or an older version');
      expect(sut.logs.text()).toContain(`${SERVICE} v3 was not published`);
      // Reads still answer (no 500).
      expect((await sut.api.config(SERVICE).expect(200)).body.secrets[PATH]).toMatchObject({
        set: true,
      });
      for (const text of [refused.text, sut.logs.text(), probe.rawBytes().toString('latin1')]) {
        expect(text).not.toContain(OLD_VALUE);
        expect(text).not.toContain(NEW_VALUE);
      }
      // Every envelope on the bus still carries the current value, never the older one.
      expect(probe.messages.filter(configOf(3)).map(opened)).not.toContain(OLD_VALUE);

      await sut.api.putSecret(SERVICE, PATH, HEALED_VALUE).expect(204);
      expect(opened(await probe.waitFor(configOf(4), 'v4'))).toBe(HEALED_VALUE);
      await sut.api.republish(SERVICE).expect(200);
    });

    it('a row written before versions were bound is bound (re-encrypted) at start and still delivered', async () => {
      await sut.api.putSecret(SERVICE, PATH, OLD_VALUE).expect(204);
      // What a manager before this change wrote: additional data of service and path only.
      await secrets().update(
        { service: SERVICE, path: PATH },
        {
          ciphertext: aesGcmEncrypt(
            masterKeyFromBase64(masterKey),
            Buffer.from(NEW_VALUE),
            Buffer.from(`${SERVICE}\0${PATH}`),
          ),
          aadVersion: null,
        },
      );
      await restart();
      expect(sut.logs.text()).toContain('Bound 1 secret(s)');
      expect((await secrets().findOneByOrFail({ service: SERVICE, path: PATH })).aadVersion).toBe(
        0,
      );

      await sut.api.republish(SERVICE).expect(200);
      await probe.waitFor((m) => configOf(2)(m) && opened(m) === NEW_VALUE, 'v2 with the value');
      // Recognised as the same value: no new version.
      expect((await sut.api.putSecret(SERVICE, PATH, NEW_VALUE).expect(204)).headers.etag).toBe(
        '"2"',
      );
    });

    it('a row from before that does not open either does not stop the start: it is logged, never sent, and a write heals it', async () => {
      await sut.api.putSecret(SERVICE, PATH, OLD_VALUE).expect(204);
      const row = await secrets().findOneByOrFail({ service: SERVICE, path: PATH });
      await secrets().update(
        { service: SERVICE, path: PATH },
        // Another service's ciphertext, say: it does not open under this one's service and path.
        {
          ciphertext: aesGcmEncrypt(
            masterKeyFromBase64(masterKey),
            Buffer.from(NEW_VALUE),
            Buffer.from(`billing-worker\0${PATH}`),
          ),
          keyId: row.keyId,
          aadVersion: null,
        },
      );
      await restart();
      expect(sut.logs.text()).toContain(
        `Could not open 1 stored secret(s) to bind them to their version: ${SERVICE} ${PATH}`,
      );
      const refused = await sut.api.republish(SERVICE).expect(409);
      expect(refused.body.message).toContain('written before versions were bound');
      expect(sut.logs.text()).not.toContain(NEW_VALUE);

      await sut.api.putSecret(SERVICE, PATH, HEALED_VALUE).expect(204);
      expect(opened(await probe.waitFor(configOf(3), 'v3'))).toBe(HEALED_VALUE);
    });
  },
);
