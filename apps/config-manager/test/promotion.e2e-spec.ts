import type { ConfigBundlePayload, SignedEnvelope } from '@app/contracts';
import { generateSigningKeyPair, naclSign } from '@app/crypto';
import {
  BILLING_WORKER,
  bearer,
  billingWorkerSchema,
  type StoreKind,
  TOKENS,
  until,
} from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SECRET = 'tok-staging-never-exported';

const payloadOf = (bundle: SignedEnvelope): ConfigBundlePayload =>
  JSON.parse(Buffer.from(bundle.payload, 'base64').toString('utf8')) as ConfigBundlePayload;

/**
 * Promotion between environments: two managers with their own store and keys, staging exporting
 * a version as a signed bundle and production verifying and importing it.
 */
describe.each<StoreKind>(['sqlite', 'postgres'])(
  'promotion between environments on %s',
  (store) => {
    let staging: TestManager;
    let production: TestManager;

    beforeAll(async () => {
      staging = await startManager({ store });
      const [key] = (await staging.api.keys().expect(200)).body.signing;
      production = await startManager({
        store,
        env: { IMPORT_TRUSTED_KEYS: `${key.kid}:${key.publicKey}` },
      });
      for (const sut of [staging, production]) {
        await sut.api
          .registerService(BILLING_WORKER, { schema: billingWorkerSchema() })
          .expect(201);
      }
      await staging.api
        .patchConfig(BILLING_WORKER, { batch_size: 120, currency: 'USD' })
        .expect(200);
      await staging.api.putSecret(BILLING_WORKER, 'gateway.token', SECRET).expect(204);
    });

    afterAll(async () => {
      await staging?.close();
      await production?.close();
    });

    it('exports a version as a bundle signed by the manager: config, schema, hash, secret names only', async () => {
      const bundle = (await staging.api.exportBundle(BILLING_WORKER, 2).expect(200)).body;
      const [key] = (await staging.api.keys().expect(200)).body.signing;
      expect(bundle).toMatchObject({ alg: 'Ed25519', kid: key.kid });
      const schema = (await staging.api.schema(BILLING_WORKER).expect(200)).body;
      expect(payloadOf(bundle)).toMatchObject({
        bundle: 'config-centre/config-bundle',
        service: BILLING_WORKER,
        version: 2,
        schemaHash: schema.schemaHash,
        config: { batch_size: 120, currency: 'USD' },
        secretPaths: [],
      });
      const current = (await staging.api.exportBundle(BILLING_WORKER).expect(200)).body;
      expect(payloadOf(current)).toMatchObject({ version: 3, secretPaths: ['gateway.token'] });
      expect(JSON.stringify(current)).not.toContain(SECRET);
      expect(Buffer.from(current.payload, 'base64').toString('utf8')).not.toContain(SECRET);
    });

    it('shows what an import would change, and changes nothing on a dry run', async () => {
      const bundle = (await staging.api.exportBundle(BILLING_WORKER).expect(200)).body;
      const preview = (
        await production.api.importBundle(BILLING_WORKER, bundle, { dryRun: true }).expect(200)
      ).body;
      expect(preview).toMatchObject({
        service: BILLING_WORKER,
        sourceVersion: 3,
        schemaMatches: true,
        baseVersion: 1,
        secrets: [{ path: 'gateway.token', setHere: false }],
      });
      expect(preview.changes).toEqual(
        expect.arrayContaining([
          { path: 'batch_size', from: 50, to: 120 },
          { path: 'currency', from: 'EUR', to: 'USD' },
        ]),
      );
      const versions = (await production.api.versions(BILLING_WORKER).expect(200)).body;
      expect(versions.map((v) => v.version)).toEqual([1]);
    });

    it('imports a bundle as a staged version of kind import, which a rollout then deploys', async () => {
      const bundle = (await staging.api.exportBundle(BILLING_WORKER).expect(200)).body;
      const imported = (
        await production.api
          .importBundle(BILLING_WORKER, bundle, { reason: 'promote v3' })
          .expect(201)
      ).body;
      expect(imported).toMatchObject({ version: 2, state: 'staged', sourceVersion: 3 });

      const [latest] = (await production.api.versions(BILLING_WORKER).expect(200)).body;
      expect(latest).toMatchObject({
        version: 2,
        kind: 'import',
        state: 'staged',
        reason: 'promote v3',
      });
      const before = (await production.api.config(BILLING_WORKER).expect(200)).body;
      expect(before).toMatchObject({ version: 1, config: { batch_size: 50 } });

      const rollout = (
        await production.api
          .createRollout(BILLING_WORKER, {
            version: 2,
            strategy: { steps: [{ cohort: { all: true } }] },
          })
          .expect(201)
      ).body;
      await until(
        'the imported version to be current',
        async () => {
          const view = (await production.api.rollout(BILLING_WORKER, rollout.id).expect(200)).body;
          return view.state === 'complete' ? view : undefined;
        },
        { timeoutMs: 10_000 },
      );
      const after = (await production.api.config(BILLING_WORKER).expect(200)).body;
      expect(after).toMatchObject({ version: 2, config: { batch_size: 120, currency: 'USD' } });
      // Production's own secrets stay as they are: the bundle only named the one set in staging.
      expect(after.secrets['gateway.token']).toMatchObject({ set: false });
    });

    it('refuses a forged, untrusted, foreign or unfitting bundle with a 4xx naming the problem', async () => {
      const bundle = (await staging.api.exportBundle(BILLING_WORKER).expect(200)).body;
      const payload = payloadOf(bundle);
      const tampered = {
        ...bundle,
        payload: Buffer.from(JSON.stringify({ ...payload, config: { batch_size: 499 } })).toString(
          'base64',
        ),
      };
      const forged = await production.api
        .importBundle(BILLING_WORKER, tampered, { dryRun: true })
        .expect(400);
      expect(forged.body.details).toEqual([expect.objectContaining({ path: 'sig' })]);

      // Signed, but by a key production does not trust (another environment's, or an attacker's).
      const stranger = generateSigningKeyPair();
      const payloadBytes = Buffer.from(JSON.stringify(payload), 'utf8');
      const untrusted = await production.api
        .importBundle(
          BILLING_WORKER,
          {
            alg: 'Ed25519',
            kid: 'stranger-1',
            payload: payloadBytes.toString('base64'),
            sig: naclSign(payloadBytes, stranger.secretKey).toString('base64'),
          },
          { dryRun: true },
        )
        .expect(400);
      expect(untrusted.body.details).toEqual([expect.objectContaining({ path: 'kid' })]);

      await production.api
        .registerService('ledger-worker', { schema: billingWorkerSchema() })
        .expect(201);
      const foreign = await production.api
        .importBundle('ledger-worker', bundle, { dryRun: true })
        .expect(400);
      expect(foreign.body.details).toEqual([expect.objectContaining({ path: 'service' })]);

      // Production's schema moved on (its config migrated with it): batch_size may now be at
      // most 100, and the bundle's 120 does not fit.
      await production.api
        .registerService(BILLING_WORKER, {
          schema: billingWorkerSchema({}, { maximum: 100 }),
          config: { batch_size: 100 },
        })
        .expect(200);
      const unfitting = await production.api
        .importBundle(BILLING_WORKER, bundle, { dryRun: true })
        .expect(409);
      expect(unfitting.body.details).toEqual([
        expect.objectContaining({ path: 'config.batch_size' }),
      ]);

      const garbage = await production.api
        .importBundle(BILLING_WORKER, { hello: 'world' }, { dryRun: true })
        .expect(400);
      expect(garbage.body.message).toContain('not authentic (malformed)');
      const versions = (await production.api.versions(BILLING_WORKER).expect(200)).body;
      // Nothing refused became a version: the import of the earlier test, then the migration.
      expect(versions.map((v) => v.kind)).toEqual(['migration', 'import', 'initial']);
    });

    it('refuses every bundle while IMPORT_TRUSTED_KEYS is not set, saying what to set', async () => {
      const bundle = (await production.api.exportBundle(BILLING_WORKER).expect(200)).body;
      const answer = await staging.api
        .importBundle(BILLING_WORKER, bundle, { dryRun: true })
        .expect(400);
      expect(answer.body.message).toContain('IMPORT_TRUSTED_KEYS');
    });

    it('answers 400 for a version that is not a decimal integer and 404 for an unknown one', async () => {
      await staging.api.exportBundle(BILLING_WORKER, 99).expect(404);
      await staging
        .http()
        .get(`/api/services/${BILLING_WORKER}/export?version=0x2`)
        .set(bearer(TOKENS.admin))
        .expect(400);
    });
  },
);
