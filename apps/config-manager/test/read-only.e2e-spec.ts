import { DataSource } from 'typeorm';
import { Client } from 'pg';
import { eventually, TempPostgres, TEST_POSTGRES_URL } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';

describe('Postgres outage under a running manager', () => {
  let pg: TempPostgres;
  let sut: TestManager;

  beforeAll(async () => {
    pg = await TempPostgres.create();
    sut = await startManager({
      store: 'postgres',
      env: { DATABASE_URL: `${pg.url}?schema=outage` },
    });
  }, 60000);

  afterAll(async () => {
    await sut?.stop();
    pg?.destroy();
  });

  it('goes read-only while Postgres is down and accepts writes again when it returns, without a restart', async () => {
    await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.8 } }).expect(200);

    pg.stop();

    const res = await eventually(
      () => sut.api.config(SERVICE),
      (r) => r.headers['x-read-only'] === 'true',
      10000,
    );
    expect(res.status).toBe(200);
    expect(res.headers['x-read-only']).toBe('true');
    expect(res.body).toMatchObject({ version: 2, config: { thresholds: { high: 0.8 } } });
    const façade = await sut.api.facadeConfig().expect(200);
    expect(façade.headers['x-read-only']).toBe('true');
    const write = await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.7 } });
    expect(write.status).toBe(503);
    expect(write.headers['retry-after']).toBe('5');
    expect(write.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    const history = await sut.api.versions(SERVICE);
    expect(history.status).toBe(503);
    const ready = await sut.api.ready().expect(503);
    expect(ready.body.checks.database).toMatchObject({ status: 'down', readOnly: true });
    expect(JSON.stringify(ready.body)).not.toContain('postgres://');

    pg.start();

    const after = await sut.api.patchConfig(SERVICE, { thresholds: { high: 0.7 } }).expect(200);
    expect(after.body.version).toBe(3);
    expect(after.headers['x-read-only']).toBeUndefined();
    await sut.api.ready().expect(200);
  });
});

describe('a Postgres connection killed outside any query', () => {
  let sut: TestManager | undefined;

  afterEach(async () => {
    await sut?.close();
  });

  it('is an error the manager handles, not one that ends the process', async () => {
    sut = await startManager({ store: 'postgres' });
    const pool = (sut.app.get(DataSource).driver as unknown as { master: PgPool }).master;
    // Checked out and held by nobody who listens: the window between pool and TypeORM.
    const held = await pool.connect();
    const ended = new Promise((resolve) => held.once('end', resolve));
    const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const admin = new Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    // Without a listener of the manager's, the 57P01 error event would be thrown here.
    await ended;
    held.release(true);
    await sut.http().get('/health/ready').expect(200);
  });
});

interface PgPool {
  connect(): Promise<import('pg').PoolClient>;
}
