import { type JsonSchema, schemaHashOf } from '@app/contracts';
import { DataSource } from 'typeorm';
import { generateBoxKeyPair } from '@app/crypto';
import { billingWorkerSchema, type StoreKind, TOKENS } from '@app/testing';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'billing-worker';

/** A small service schema: limits, a map, a cross-field rule and a secret. */
const billingSchema = (overrides: Record<string, JsonSchema> = {}): JsonSchema =>
  billingWorkerSchema(overrides);

describe.each<StoreKind>(['sqlite', 'postgres'])(
  'services registered at runtime on %s',
  (store) => {
    let sut: TestManager;

    beforeEach(async () => {
      sut = await startManager({ store });
    });

    afterEach(async () => {
      await sut.close();
    });

    const register = (body: object, reason?: string) =>
      sut.api.registerService(SERVICE, body, reason === undefined ? {} : { reason });

    it('a PUT registers a service: schema version 1, config version 1 from its defaults, listed and served', async () => {
      const res = await register(
        { description: 'Invoices', schema: billingSchema() },
        'new service',
      );
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        service: SERVICE,
        description: 'Invoices',
        origin: 'api',
        schemaVersion: 1,
        version: 1,
        archivedAt: null,
        created: true,
        schemaChanged: true,
        migrated: false,
      });

      const config = await sut.api.config(SERVICE).expect(200);
      expect(config.body.config).toEqual({
        batch_size: 50,
        currency: 'EUR',
        limits: { soft: 100, hard: 200 },
        gateway: { url: 'https://pay.example' },
      });
      expect(config.body.secrets).toEqual({ 'gateway.token': { set: false, updatedAt: null } });

      const listed = (await sut.api.services().expect(200)).body.map((s) => [s.service, s.origin]);
      expect(listed).toEqual([
        [SERVICE, 'api'],
        ['dedup-worker', 'code'],
      ]);
      const schema = await sut.api.schema(SERVICE).expect(200);
      expect(schema.body).toMatchObject({ schemaVersion: 1, secretPaths: ['gateway.token'] });
      expect(schema.body.schema).toEqual(billingSchema());

      const schemas = await sut.api.schemas(SERVICE).expect(200);
      expect(schemas.body).toEqual([
        {
          schemaVersion: 1,
          schemaHash: schema.body.schemaHash,
          createdAt: expect.any(String),
          createdBy: 'alice',
          reason: 'new service',
        },
      ]);
      const one = await sut.api.schemaVersion(SERVICE, 1).expect(200);
      expect(one.body.schema).toEqual(billingSchema());
      const audit = await sut.api.audit({ service: SERVICE }).expect(200);
      expect(audit.body.map((a) => a.kind)).toEqual(['initial', 'schema']);
    });

    it('the same schema again is a no-op; the editor, validation and secrets work for the new service', async () => {
      await register({ description: 'Invoices', schema: billingSchema() }).expect(201);
      const again = await register({ schema: billingSchema() }).expect(200);
      expect(again.body).toMatchObject({ created: false, schemaChanged: false, version: 1 });
      expect(again.body.description).toBe('Invoices');
      expect((await sut.api.schemas(SERVICE).expect(200)).body).toHaveLength(1);

      const bad = await sut.api.patchConfig(SERVICE, { limits: { soft: 300 } }).expect(400);
      expect(bad.body.details).toEqual([
        {
          path: 'limits.soft',
          message: 'limits.soft must be less than or equal to hard (got soft 300, hard 200)',
        },
      ]);
      await sut.api.patchConfig(SERVICE, { batch_size: 80 }).expect(200);
      await sut.api.putSecret(SERVICE, 'gateway.token', 'tok-never-in-clear').expect(204);
      const config = await sut.api.config(SERVICE).expect(200);
      expect(config.body).toMatchObject({ version: 3, config: { batch_size: 80 } });
      expect(config.body.secrets['gateway.token'].set).toBe(true);
      expect(JSON.stringify(config.body)).not.toContain('tok-never-in-clear');
      await sut.api.putSecret(SERVICE, 'gateway.url', 'x').expect(404);
    });

    it('a schema the current config fits is the next schema version with a migration version under it', async () => {
      await register({ schema: billingSchema() }).expect(201);
      await sut.api.patchConfig(SERVICE, { batch_size: 120 }).expect(200);
      const widened = billingSchema({
        retries: { type: 'integer', minimum: 0, maximum: 10, default: 3 },
      });
      const res = await register({ schema: widened }, 'add retries').expect(200);
      expect(res.body).toMatchObject({
        schemaVersion: 2,
        version: 3,
        schemaChanged: true,
        migrated: true,
      });

      const version = await sut.api.version(SERVICE, 3).expect(200);
      expect(version.body).toMatchObject({ kind: 'migration', reason: 'add retries' });
      expect(version.body.config).toMatchObject({ batch_size: 120, retries: 3 });
      const schemas = (await sut.api.schemas(SERVICE).expect(200)).body;
      expect(schemas.map((s) => s.schemaVersion)).toEqual([2, 1]);
      const audit = (await sut.api.audit({ service: SERVICE, limit: 2 }).expect(200)).body;
      expect(audit.map((a) => a.kind).sort()).toEqual(['migration', 'schema']);
      const schemaRow = audit.find((a) => a.kind === 'schema');
      expect(schemaRow?.changes).toEqual(
        expect.arrayContaining([
          { path: 'schemaVersion', from: 1, to: 2 },
          { path: 'schema.properties.retries.default', from: null, to: 3 },
        ]),
      );
    });

    it('a schema the current config does not fit is refused with 409 and the paths, unless it brings the config to move to', async () => {
      await register({ schema: billingSchema() }).expect(201);
      await sut.api.patchConfig(SERVICE, { batch_size: 300, currency: 'USD' }).expect(200);
      const narrowed = billingSchema({
        batch_size: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        currency: { type: 'string', enum: ['EUR'], default: 'EUR' },
      });

      const refused = await register({ schema: narrowed }).expect(409);
      expect(refused.body.details?.map((d) => d.path)).toEqual(['batch_size', 'currency']);
      expect(refused.body.message).toContain('does not fit the new schema');
      expect((await sut.api.schemas(SERVICE).expect(200)).body).toHaveLength(1);
      expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(2);

      const stillBad = await register({ schema: narrowed, config: { batch_size: 250 } }).expect(
        400,
      );
      expect(stillBad.body.details?.map((d) => d.path)).toEqual(['batch_size']);
      expect((await sut.api.schemas(SERVICE).expect(200)).body).toHaveLength(1);

      const moved = await register({
        schema: narrowed,
        config: { batch_size: 200, currency: 'EUR' },
      }).expect(200);
      expect(moved.body).toMatchObject({ schemaVersion: 2, version: 3, migrated: true });
      expect((await sut.api.config(SERVICE).expect(200)).body.config).toMatchObject({
        batch_size: 200,
        currency: 'EUR',
      });
      // A retry of the same migration is a no-op; another config with the same schema is not taken.
      await register({ schema: narrowed, config: { batch_size: 200, currency: 'EUR' } }).expect(
        200,
      );
      const other = await register({ schema: narrowed, config: { batch_size: 10 } }).expect(409);
      expect(other.body.details?.[0]?.path).toBe('config');
      expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(3);
    });

    it('a rollback to a version written under another schema is validated against today’s schema first', async () => {
      await register({ schema: billingSchema() }).expect(201);
      await sut.api.patchConfig(SERVICE, { batch_size: 400 }).expect(200); // v2
      await sut.api.patchConfig(SERVICE, { batch_size: 100 }).expect(200); // v3
      const narrowed = billingSchema({
        batch_size: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
      });
      await register({ schema: narrowed }).expect(200); // v4: migration

      const refused = await sut.api.rollback(SERVICE, 2).expect(409);
      expect(refused.body.details).toEqual([
        { path: 'batch_size', message: 'batch_size must not be greater than 200' },
      ]);
      expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(4);
      const ok = await sut.api.rollback(SERVICE, 1).expect(200);
      expect(ok.body).toMatchObject({ version: 5, config: { batch_size: 50 } });
    });

    it('DELETE archives: history kept, listed as archived, no writes; registering again restores it', async () => {
      await register({ schema: billingSchema() }).expect(201);
      await sut.api.patchConfig(SERVICE, { batch_size: 70 }).expect(200);
      const archived = await sut.api.archiveService(SERVICE, { reason: 'retired' }).expect(200);
      expect(archived.body.archivedAt).toEqual(expect.any(String));

      const listed = (await sut.api.services().expect(200)).body.find((s) => s.service === SERVICE);
      expect(listed).toMatchObject({ archivedAt: archived.body.archivedAt, version: 2 });
      expect((await sut.api.versions(SERVICE).expect(200)).body).toHaveLength(2);
      expect((await sut.api.config(SERVICE).expect(200)).body.config).toMatchObject({
        batch_size: 70,
      });
      const refused = await sut.api.patchConfig(SERVICE, { batch_size: 71 }).expect(409);
      expect(refused.body.message).toContain('archived');
      await sut.api.putSecret(SERVICE, 'gateway.token', 'x').expect(409);
      await sut.api.rollback(SERVICE, 1).expect(409);

      const restored = await register({ schema: billingSchema() }).expect(200);
      expect(restored.body).toMatchObject({ archivedAt: null, version: 2, created: false });
      await sut.api.patchConfig(SERVICE, { batch_size: 71 }).expect(200);
      const kinds = (await sut.api.audit({ service: SERVICE }).expect(200)).body.map((a) => a.kind);
      expect(kinds.slice(0, 3)).toEqual(['update', 'restore', 'archive']);
    });

    it('a service registered by the manager’s code cannot be changed or archived over the API', async () => {
      const schema = (await sut.api.schema('dedup-worker').expect(200)).body.schema;
      const put = await sut.api.registerService('dedup-worker', { schema }).expect(409);
      expect(put.body.message).toContain("registered by the manager's code");
      await sut.api.archiveService('dedup-worker').expect(409);
      await sut.api.archiveService('no-such-service').expect(404);
      await sut.api.schemas('no-such-service').expect(404);
      await sut.api.schemaVersion('dedup-worker', 2).expect(404);
      await sut.api.schemaVersion('dedup-worker', 'x1').expect(400);
    });

    it.each<[string, () => object, number, RegExp]>([
      ['no schema', () => ({ description: 'x' }), 400, /schema is required/],
      [
        'a schema that is not JSON Schema',
        () => ({ schema: { type: 'object', properties: { a: { type: 'bogus' } } } }),
        400,
        /schema\.properties\.a/,
      ],
      [
        'an unsupported keyword, named',
        () => ({
          schema: billingSchema({
            at: { type: 'string', format: 'date-time', default: '' } as JsonSchema,
          }),
        }),
        400,
        /unsupported keyword "format"/,
      ],
      [
        'a remote $ref',
        () => ({
          schema: billingSchema({ at: { $ref: 'https://example.com/s.json' } }),
        }),
        400,
        /only local references/,
      ],
      [
        'a secret that is not a string',
        () => ({
          schema: billingSchema({ pin: { type: 'integer', writeOnly: true, default: 0 } }),
        }),
        400,
        /secrets are strings/,
      ],
      [
        'a default that fails its own schema',
        () => ({ schema: billingSchema({ n: { type: 'integer', minimum: 5, default: 1 } }) }),
        400,
        /defaults do not satisfy the schema/,
      ],
      [
        'a schema over the size limit',
        () => ({
          schema: billingSchema(
            Object.fromEntries(
              Array.from({ length: 2500 }, (_, i) => [
                `field_${i}`,
                { type: 'string', description: 'x'.repeat(60), default: '' },
              ]),
            ),
          ),
        }),
        413,
        /more than the limit of 163840/,
      ],
      [
        'an unknown field',
        () => ({ schema: billingSchema(), owner: 'me' }),
        400,
        /owner is not a field/,
      ],
      [
        'a recipient key that is not 32 bytes',
        () => ({ schema: billingSchema(), recipientKey: 'AAAA' }),
        400,
        /recipientKey must decode to 32 bytes/,
      ],
      [
        'a description that is not a string',
        () => ({ schema: billingSchema(), description: 7 }),
        400,
        /description must be a string/,
      ],
    ])('refuses %s with a clear error and stores nothing', async (_, body, status, message) => {
      const res = await register(body()).expect(status);
      expect(res.body.message).toMatch(message);
      await sut.api.config(SERVICE).expect(404);
      expect((await sut.api.services().expect(200)).body.map((s) => s.service)).toEqual([
        'dedup-worker',
      ]);
    });

    it('refuses a secret value carried in a registration, without echoing it, and stores nothing', async () => {
      const leaked = 'tok-in-a-registration-never-echoed';
      const res = await register({
        schema: billingSchema(),
        config: { gateway: { token: leaked } },
      }).expect(400);
      expect(res.body.details?.map((d) => d.path)).toEqual(['gateway.token']);
      expect(res.text).not.toContain(leaked);
      await sut.api.config(SERVICE).expect(404);
      await register({ schema: billingSchema() }).expect(201);
      const migration = await register({
        schema: billingSchema({ extra: { type: 'boolean', default: false } }),
        config: { gateway: { token: leaked } },
      }).expect(400);
      expect(migration.text).not.toContain(leaked);
      const audit = await sut.api.audit({ service: SERVICE }).expect(200);
      expect(audit.text).not.toContain(leaked);
      expect(sut.logs.text()).not.toContain(leaked);
    });

    it('refuses a service name that breaks the topic pattern, and callers without the admin role', async () => {
      for (const name of ['Billing', 'a', 'bad_name', `x${'y'.repeat(70)}`]) {
        const res = await sut.api.registerService(name, { schema: billingSchema() }).expect(400);
        expect(res.body.details?.[0]?.path).toBe('service');
      }
      await sut.api
        .as(TOKENS.writer)
        .registerService(SERVICE, { schema: billingSchema() })
        .expect(403);
      await register({ schema: billingSchema() }).expect(201);
      await sut.api.as(TOKENS.writer).archiveService(SERVICE).expect(403);
      await sut.api.as(TOKENS.reader).schemas(SERVICE).expect(200);
    });

    it('twenty concurrent registrations: one schema version per distinct schema, none lost', async () => {
      const same = await Promise.all(
        Array.from({ length: 20 }, () =>
          sut.api.registerService(SERVICE, { schema: billingSchema() }),
        ),
      );
      expect(same.map((r) => r.status).sort((a, b) => a - b)).toEqual([
        ...Array<number>(19).fill(200),
        201,
      ]);
      expect((await sut.api.schemas(SERVICE).expect(200)).body).toHaveLength(1);

      const distinct = Array.from({ length: 10 }, (_, i) =>
        billingSchema({
          batch_size: { type: 'integer', minimum: 1, maximum: 500 + i, default: 50 },
        }),
      );
      const changes = await Promise.all(
        distinct.map((schema) => sut.api.registerService(SERVICE, { schema })),
      );
      expect(changes.map((r) => r.status)).toEqual(Array<number>(10).fill(200));
      const schemas = (await sut.api.schemas(SERVICE).expect(200)).body;
      expect(schemas.map((s) => s.schemaVersion)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      const versions = (await sut.api.versions(SERVICE).expect(200)).body;
      expect(versions.map((v) => v.version)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      const current = (await sut.api.schema(SERVICE).expect(200)).body;
      expect(current.schemaHash).toBe(schemas[0]?.schemaHash);
    });

    it('a registered service, its schema history and its recipient key survive a restart', async () => {
      const recipient = generateBoxKeyPair();
      const registered = await register({
        schema: billingSchema(),
        recipientKey: recipient.publicKey.toString('base64'),
      }).expect(201);
      expect(registered.body.hasRecipientKey).toBe(true);
      await register({
        schema: billingSchema({ extra: { type: 'boolean', default: true } }),
      }).expect(200);
      await sut.stop();
      sut = await startManager({ store, reuse: sut });

      const config = await sut.api.config(SERVICE).expect(200);
      expect(config.body).toMatchObject({ version: 2, config: { extra: true } });
      const again = (
        await register({
          schema: billingSchema({ extra: { type: 'boolean', default: true } }),
        }).expect(200)
      ).body;
      expect(again).toMatchObject({
        schemaVersion: 2,
        hasRecipientKey: true,
        schemaChanged: false,
      });
      const removed = await register({
        schema: billingSchema({ extra: { type: 'boolean', default: true } }),
        recipientKey: null,
      }).expect(200);
      expect(removed.body.hasRecipientKey).toBe(false);
    });
  },
);

describe.each<StoreKind>(['sqlite', 'postgres'])(
  'the registry across restarts and replicas on %s',
  (store) => {
    let sut: TestManager;

    beforeEach(async () => {
      sut = await startManager({ store });
    });

    afterEach(async () => {
      await sut.close();
    });

    it('a release whose code brings a new schema for dedup-worker is a schema change under the same rule', async () => {
      const before = (await sut.api.schema('dedup-worker').expect(200)).body;
      // The store as an older release left it: the same service under a slightly different schema.
      const older = { ...before.schema, description: 'as an older release described it' };
      const placeholders = store === 'postgres' ? ['$1', '$2', '$3'] : ['?', '?', '?'];
      const { database } = sut.settings;
      const table =
        database.type === 'postgres' ? `"${database.schema}".service_schemas` : 'service_schemas';
      await sut.app
        .get(DataSource)
        .query(
          `UPDATE ${table} SET document = ${placeholders[0]}, schema_hash = ${placeholders[1]} WHERE service = ${placeholders[2]}`,
          [JSON.stringify(older), schemaHashOf(older), 'dedup-worker'],
        );
      await sut.stop();
      sut = await startManager({ store, reuse: sut });

      const schemas = (await sut.api.schemas('dedup-worker').expect(200)).body;
      expect(schemas.map((s) => [s.schemaVersion, s.schemaHash, s.createdBy])).toEqual([
        [2, before.schemaHash, 'system'],
        [1, schemaHashOf(older), 'system'],
      ]);
      const version = await sut.api.version('dedup-worker', 2).expect(200);
      expect(version.body).toMatchObject({ kind: 'migration', createdBy: 'system' });
      expect((await sut.api.schema('dedup-worker').expect(200)).body.schemaVersion).toBe(2);
      expect(sut.logs.text()).toContain('dedup-worker: its schema from code is schema version 2');

      // The next start finds nothing to do.
      await sut.stop();
      sut = await startManager({ store, reuse: sut });
      expect((await sut.api.schemas('dedup-worker').expect(200)).body).toHaveLength(2);
      expect((await sut.api.config('dedup-worker').expect(200)).body.version).toBe(2);
    });

    it('a replica on the same store takes writes for a service another one registered, under its current schema', async () => {
      const other = await startManager({ store, reuse: sut });
      try {
        await sut.api.registerService(SERVICE, { schema: billingSchema() }).expect(201);
        await other.api.patchConfig(SERVICE, { batch_size: 90 }).expect(200);
        await sut.api
          .registerService(SERVICE, {
            schema: billingSchema({
              batch_size: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            }),
          })
          .expect(200);
        const refused = await other.api.patchConfig(SERVICE, { batch_size: 150 }).expect(400);
        expect(refused.body.details?.[0]?.path).toBe('batch_size');
        await other.api.patchConfig(SERVICE, { batch_size: 95 }).expect(200);
        await sut.api.archiveService(SERVICE).expect(200);
        await other.api.patchConfig(SERVICE, { batch_size: 96 }).expect(409);
        expect((await sut.api.versions(SERVICE).expect(200)).body.map((v) => v.version)).toEqual([
          4, 3, 2, 1,
        ]);
      } finally {
        await other.stop();
      }
    });
  },
);
