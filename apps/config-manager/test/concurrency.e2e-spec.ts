import { type StoreKind, succeeded } from '@app/testing';
import { startManager, TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const WEIGHTS = { date: 0.25, geo: 0.25, title: 0.25, description: 0.25 };

// Two managers on one store: the compare-and-set must hold across connections (and processes),
// not only inside one process.
describe.each<StoreKind>(['sqlite', 'postgres'])('concurrent writers on %s', (store) => {
  let a: TestManager;
  let b: TestManager;

  beforeEach(async () => {
    a = await startManager({ store });
    b = await startManager({ store, reuse: a });
  });

  afterEach(async () => {
    await b.stop();
    await a.close();
  });

  const patchVia = (manager: TestManager, body: object, ifMatch?: number) =>
    manager.api.patchConfig(SERVICE, body, { ifMatch });

  it('20 PATCHes with the same If-Match: exactly one wins, the rest get 412', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        patchVia(i % 2 ? a : b, { cluster: { max_cluster_size: 10 + i } }, 1),
      ),
    );

    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    const winner = results.find(succeeded);
    const history = await a.api.versions(SERVICE).expect(200);
    expect(history.body.map((v) => v.version)).toEqual([2, 1]);
    const current = await b.api.version(SERVICE, 2).expect(200);
    expect(current.body.config.cluster.max_cluster_size).toBe(
      winner?.body.config.cluster.max_cluster_size,
    );
  });

  it('20 PATCHes without If-Match on different keys: every one lands, none is lost', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        patchVia(i % 2 ? a : b, {
          category_weights: { overrides: { [`category-${i}`]: WEIGHTS } },
        }),
      ),
    );

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const versions = results
      .filter(succeeded)
      .map((r) => r.body.version)
      .sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const final = await a.api.version(SERVICE, 21).expect(200);
    expect(Object.keys(final.body.config.category_weights.overrides).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `category-${i}`).sort(),
    );
  });
});
