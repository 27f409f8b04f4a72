import type { RolloutRequest, RolloutView } from '@app/contracts';
import { generateBoxKeyPair, openSealedSecret } from '@app/crypto';
import {
  BILLING_WORKER,
  billingWorkerSchema,
  MqttProbe,
  type ProbeMessage,
  readEnvelope,
  startAedes,
  type StoreKind,
  type TestBroker,
  TOKENS,
  until,
  verifiesWith,
} from '@app/testing';
import { candidateOf, SimulatedFleet } from './support/simulated-fleet';
import { startManager, type TestManager } from './support/test-app';

const SERVICE = 'dedup-worker';
const CONFIG_TOPIC = `system/config/${SERVICE}`;
const CANDIDATE_TOPIC = `system/candidate/${SERVICE}`;
const CANARIES = ['w-1', 'w-2'];
const OTHERS = ['w-3', 'w-4'];

const canaryThenAll = (
  bake: { runs?: number; seconds?: number } = { runs: 2 },
  extra: Partial<RolloutRequest['strategy']> = {},
): RolloutRequest['strategy'] => ({
  steps: [{ cohort: { selector: { tier: 'canary' } }, bake }, { cohort: { all: true } }],
  ackTimeoutSeconds: 30,
  ...extra,
});

const stableOf = (version: number) => (m: ProbeMessage) =>
  m.topic === CONFIG_TOPIC &&
  m.payload.length > 0 &&
  readEnvelope(m.payload).payload.version === version;

const candidateFor = (step: number) => (m: ProbeMessage) =>
  m.topic === CANDIDATE_TOPIC && candidateOf(m)?.rollout.step === step;

const cleared = (m: ProbeMessage) => m.topic === CANDIDATE_TOPIC && m.payload.length === 0;

describe.each<StoreKind>(['sqlite', 'postgres'])('rollouts on %s', (store) => {
  let broker: TestBroker;
  let sut: TestManager;
  let fleet: SimulatedFleet;
  let probe: MqttProbe;

  beforeEach(async () => {
    broker = await startAedes();
    sut = await startManager({ store, env: { MQTT_URL: broker.url, ROLLOUT_TICK_MS: '50' } });
    probe = await MqttProbe.connect(broker.url, [CONFIG_TOPIC, CANDIDATE_TOPIC]);
    fleet = await SimulatedFleet.connect(broker.url, SERVICE);
    for (const id of CANARIES) await fleet.report(id, { labels: { tier: 'canary' } });
    for (const id of OTHERS) await fleet.report(id, { labels: { tier: 'main' } });
    await until(
      'four instances in the view',
      async () =>
        (await sut.api.instances(SERVICE).expect(200)).body.length === 4 ? true : undefined,
      { timeoutMs: 3000 },
    );
  });

  afterEach(async () => {
    await fleet?.close();
    await probe?.close();
    await sut?.close();
    await broker?.stop();
  });

  /** Stages thresholds.high = 0.8 as version 2 (the stable version is 1). */
  const stage = async (high = 0.8) =>
    (
      await sut.api
        .patchConfig(SERVICE, { thresholds: { high } }, { publish: 'staged' })
        .expect(200)
    ).body.version;

  const start = async (strategy: RolloutRequest['strategy'], version = 2) =>
    (await sut.api.createRollout(SERVICE, { version, strategy }).expect(201)).body;

  const rolloutWhen = (
    id: string,
    check: (r: RolloutView) => boolean,
    what: string,
    timeoutMs = 5000,
  ): Promise<RolloutView> =>
    until(
      what,
      async () => {
        const { body } = await sut.api.rollout(SERVICE, id).expect(200);
        return check(body) ? body : undefined;
      },
      { timeoutMs, intervalMs: 25 },
    );

  const instanceState = (r: RolloutView, id: string) =>
    r.instances.find((i) => i.instanceId === id)?.state;

  it('deploys a canary step to the selected instances only, bakes N runs, then completes for everyone', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 2 }));
    expect(created).toMatchObject({ state: 'pending', version: 2, stableVersion: 1, step: 0 });

    const message = await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    const keys = await sut.api.keys().expect(200);
    expect(verifiesWith(message.payload, keys.body.signing[0].publicKey)).toBe(true);
    const late = await MqttProbe.connect(broker.url, [CANDIDATE_TOPIC]);
    const retained = await late
      .waitFor(candidateFor(1), 'the retained candidate')
      .finally(() => late.close());
    expect(retained.retain).toBe(true);
    const payload = candidateOf(message);
    expect(payload).toMatchObject({
      service: SERVICE,
      version: 2,
      config: { thresholds: { high: 0.8 } },
      rollout: { id: created.id, step: 1, stableVersion: 1 },
    });
    expect([...(payload?.rollout.instances ?? [])].sort()).toEqual(CANARIES);
    expect((await sut.api.versions(SERVICE).expect(200)).body[0]).toMatchObject({
      version: 2,
      state: 'published',
    });

    for (const id of CANARIES) await fleet.applied(id, 2);
    await rolloutWhen(created.id, (r) => r.state === 'baking', 'baking');
    for (const id of CANARIES) await fleet.ran(id, 2, 1);
    await fleet.ran('w-1', 2, 2);
    const half = await rolloutWhen(
      created.id,
      (r) => instanceState(r, 'w-1') === 'done',
      'w-1 baked',
    );
    expect(half.state).toBe('baking');
    expect(instanceState(half, 'w-2')).toBe('baking');
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(1);

    await fleet.ran('w-2', 2, 2);
    const done = await rolloutWhen(created.id, (r) => r.state === 'complete', 'complete');
    expect(done.trigger).toBe('complete');
    expect(done.timeline.map((e) => e.state)).toEqual([
      'pending',
      'deploying',
      'baking',
      'complete',
    ]);
    const stable = await probe.waitFor(stableOf(2), 'v2 on the stable topic');
    expect(readEnvelope(stable.payload).payload.config).toMatchObject({
      thresholds: { high: 0.8 },
    });
    await probe.waitFor(cleared, 'the candidate topic cleared');
    const current = await sut.api.config(SERVICE).expect(200);
    expect(current.body).toMatchObject({ version: 2, config: { thresholds: { high: 0.8 } } });
    // Nobody but the canaries was ever named by a candidate.
    const named = probe.messages.flatMap((m) =>
      m.topic === CANDIDATE_TOPIC ? (candidateOf(m)?.rollout.instances ?? []) : [],
    );
    expect(named.filter((id) => OTHERS.includes(id))).toEqual([]);
    const audit = await sut.api.audit({ service: SERVICE, limit: 10 }).expect(200);
    expect(audit.body.filter((a) => a.kind === 'rollout').map((a) => a.reason)).toEqual(
      expect.arrayContaining([expect.stringContaining(`${created.id}: v2 is the current version`)]),
    );
    expect(await sut.api.metrics()).toContain(
      `config_rollouts{service="${SERVICE}",state="complete"} 1`,
    );
  });

  it('picks count and percent cohorts in a sticky, cumulative order', async () => {
    await stage();
    const created = await start({
      steps: [{ cohort: { instances: 1 } }, { cohort: { percent: 50 } }, { cohort: { all: true } }],
    });
    const first = candidateOf(await probe.waitFor(candidateFor(1), 'step 1'))?.rollout.instances;
    expect(first).toHaveLength(1);
    await fleet.applied(first?.[0] ?? '', 2);
    const second = candidateOf(await probe.waitFor(candidateFor(2), 'step 2'))?.rollout.instances;
    expect(second).toHaveLength(2);
    expect(second).toContain(first?.[0]);
    for (const id of second ?? []) await fleet.applied(id, 2);
    await rolloutWhen(created.id, (r) => r.state === 'complete', 'complete');
    const view = (await sut.api.rollout(SERVICE, created.id).expect(200)).body;
    expect(view.steps.map((s) => s.instances.length)).toEqual([1, 2, 0]);
  });

  it('rolls back when a canary rejects the candidate: a new version with the stable content', async () => {
    await stage();
    const created = await start(canaryThenAll());
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    await fleet.applied('w-1', 2);
    await fleet.report('w-2', {
      lastRejection: { version: 2, reason: 'schema', at: new Date().toISOString() },
    });

    const ended = await rolloutWhen(created.id, (r) => r.state === 'rolled_back', 'rolled back');
    expect(ended).toMatchObject({ trigger: 'rejection', rollbackVersion: 3 });
    expect(instanceState(ended, 'w-2')).toBe('rejected');
    expect(ended.timeline.map((e) => e.state)).toEqual([
      'pending',
      'deploying',
      'rolling_back',
      'rolled_back',
    ]);
    const stable = await probe.waitFor(stableOf(3), 'v3 on the stable topic');
    expect(readEnvelope(stable.payload).payload.config).toMatchObject({
      thresholds: { high: 0.75 },
    });
    await probe.waitFor(cleared, 'the candidate topic cleared');
    expect((await sut.api.versions(SERVICE).expect(200)).body[0]).toMatchObject({
      version: 3,
      kind: 'rollback',
      state: 'published',
    });
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(3);
    const audit = await sut.api.audit({ service: SERVICE, limit: 5 }).expect(200);
    expect(audit.body.map((a) => [a.kind, a.actor])).toEqual(
      expect.arrayContaining([
        ['rollout', 'rejection'],
        ['rollback', 'rejection'],
      ]),
    );
  });

  it('rolls back when a targeted instance misses the ack timeout while another reported', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 1 }, { ackTimeoutSeconds: 1 }));
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    await fleet.applied('w-1', 2);

    const ended = await rolloutWhen(created.id, (r) => r.state === 'rolled_back', 'rolled back');
    expect(ended.trigger).toBe('ack-timeout');
    expect(instanceState(ended, 'w-2')).toBe('timed_out');
    await probe.waitFor(stableOf(3), 'v3 on the stable topic');
  });

  it('rolls back when a canary that applied the candidate goes offline and stays away past the ack timeout', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 3 }, { ackTimeoutSeconds: 1 }));
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    for (const id of CANARIES) await fleet.applied(id, 2);
    await rolloutWhen(created.id, (r) => r.state === 'baking', 'baking');
    await fleet.report('w-2', { status: 'offline' }); // its last will

    const ended = await rolloutWhen(created.id, (r) => r.state === 'rolled_back', 'rolled back');
    expect(ended.trigger).toBe('ack-timeout');
    expect(instanceState(ended, 'w-2')).toBe('timed_out');
    expect(ended.timeline.at(-2)?.message).toContain('w-2 did not apply v2');
    await probe.waitFor(stableOf(3), 'v3 on the stable topic');
  });

  it('pauses instead when no targeted instance reported anything before the ack timeout, and resumes', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 1 }, { ackTimeoutSeconds: 1 }));
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');

    const paused = await rolloutWhen(created.id, (r) => r.state === 'paused', 'paused');
    expect(paused.trigger).toBe('ack-timeout');
    expect(paused.rollbackVersion).toBeNull();
    expect((await sut.api.config(SERVICE).expect(200)).body.version).toBe(1);

    const resumed = await sut.api.rolloutAction(SERVICE, created.id, 'resume').expect(200);
    expect(resumed.body.state).toBe('deploying');
    for (const id of CANARIES) await fleet.applied(id, 2);
    for (const id of CANARIES) await fleet.ran(id, 2, 1);
    await rolloutWhen(created.id, (r) => r.state === 'complete', 'complete');
  });

  it('rolls back when failed runs on the candidate exceed maxFailedRuns', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 5 }, { maxFailedRuns: 1 }));
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    for (const id of CANARIES) await fleet.applied(id, 2);
    await fleet.ran('w-1', 2, 3, 1);
    const baking = await rolloutWhen(created.id, (r) => r.state === 'baking', 'baking');
    expect(baking.state).toBe('baking');
    await fleet.ran('w-1', 2, 3, 2);

    const ended = await rolloutWhen(created.id, (r) => r.state === 'rolled_back', 'rolled back');
    expect(ended.trigger).toBe('failed-runs');
    expect(instanceState(ended, 'w-1')).toBe('failed');
    await probe.waitFor(stableOf(3), 'v3 on the stable topic');
  });

  it('pauses, resumes and promotes on request; refuses plain writes and a second rollout meanwhile', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 1 }));
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    for (const id of CANARIES) await fleet.applied(id, 2);
    await rolloutWhen(created.id, (r) => r.state === 'baking', 'baking');

    const paused = await sut.api.rolloutAction(SERVICE, created.id, 'pause').expect(200);
    expect(paused.body).toMatchObject({ state: 'paused', trigger: 'user:alice' });
    for (const id of CANARIES) await fleet.ran(id, 2, 1);
    // Paused: the bake is met but no step starts.
    await until(
      'both canaries in the view with a run',
      async () =>
        (await sut.api.instances(SERVICE).expect(200)).body.filter((i) => i.runs?.completed === 1)
          .length === 2 || undefined,
      { timeoutMs: 3000 },
    );
    expect((await sut.api.rollout(SERVICE, created.id).expect(200)).body.state).toBe('paused');

    const plain = await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(409);
    expect(plain.body).toMatchObject({ code: 'ROLLOUT_ACTIVE' });
    expect(plain.body.details?.[0].path).toBe('rollout');
    expect(plain.body.message).toContain(created.id);
    await sut.api.putSecret(SERVICE, 'ai.api_key', 'sk-during-rollout').expect(409);
    await sut.api.rollback(SERVICE, 1).expect(409);
    const second = await sut.api
      .createRollout(SERVICE, { version: 2, strategy: canaryThenAll() })
      .expect(409);
    expect(second.body.code).toBe('ROLLOUT_ACTIVE');
    // Staging stays possible: it changes nothing anyone runs.
    await sut.api
      .patchConfig(SERVICE, { thresholds: { low: 0.3 } }, { publish: 'staged' })
      .expect(200);

    await sut.api.rolloutAction(SERVICE, created.id, 'resume').expect(200);
    const promoted = await sut.api.rolloutAction(SERVICE, created.id, 'promote').expect(200);
    expect(promoted.body).toMatchObject({ state: 'complete', trigger: 'user:alice' });
    await probe.waitFor(stableOf(2), 'v2 on the stable topic');
    await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(200);
    const late = await sut.api.rolloutAction(SERVICE, created.id, 'pause').expect(409);
    expect(late.body.code).toBe('ROLLOUT_STATE_CONFLICT');
  });

  it('aborts on request: the targeted instances get the stable content as a new version', async () => {
    await stage();
    const created = await start(canaryThenAll());
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    const aborted = await sut.api.as(TOKENS.writer).rolloutAction(SERVICE, created.id, 'abort');
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({
      state: 'aborted',
      trigger: 'user:writer',
      rollbackVersion: 3,
    });
    await probe.waitFor(stableOf(3), 'v3 on the stable topic');
    await probe.waitFor(cleared, 'the candidate topic cleared');
  });

  it('resumes an active rollout after a manager restart', async () => {
    await stage();
    const created = await start(canaryThenAll({ runs: 1 }));
    await probe.waitFor(candidateFor(1), 'the step 1 candidate');
    for (const id of CANARIES) await fleet.applied(id, 2);
    await rolloutWhen(created.id, (r) => r.state === 'baking', 'baking');

    await sut.stop();
    // The canaries finish their bake while the manager is away: their retained reports of the
    // candidate are what the restarted manager reads first.
    for (const id of CANARIES) await fleet.ran(id, 2, 1);
    sut = await startManager({
      store,
      reuse: sut,
      env: { MQTT_URL: broker.url, ROLLOUT_TICK_MS: '50' },
    });
    await rolloutWhen(created.id, (r) => r.state === 'complete', 'complete after the restart');
    expect(sut.logs.text()).toContain(`Resuming 1 active rollout(s): ${SERVICE} ${created.id}`);
    await probe.waitFor(stableOf(2), 'v2 on the stable topic');
    expect(await sut.api.metrics()).not.toContain(
      `config_instance_reports_refused_total{service="${SERVICE}",reason="version"}`,
    );
  });

  it('lists rollouts newest first and serves them to readers only to read', async () => {
    await stage();
    const first = await start(canaryThenAll());
    await sut.api.rolloutAction(SERVICE, first.id, 'abort').expect(200);
    const staged = await stage(0.85);
    const second = await start(canaryThenAll(), staged);
    const reader = sut.api.as(TOKENS.reader);
    const list = await reader.rollouts(SERVICE).expect(200);
    expect(list.body.map((r) => r.id)).toEqual([second.id, first.id]);
    await reader.rollout(SERVICE, second.id).expect(200);
    await reader.createRollout(SERVICE, { version: staged, strategy: canaryThenAll() }).expect(403);
    await reader.rolloutAction(SERVICE, second.id, 'pause').expect(403);
    await sut.api.rollout(SERVICE, 'r-nope-00000000').expect(404);
    await sut.api.rollout(SERVICE, '../etc').expect(404);
    await sut.api.rollouts('unknown-service').expect(404);
  });

  it('deploys a staged secret with the candidate only, makes it current on completion, and refuses schema changes meanwhile', async () => {
    const recipient = generateBoxKeyPair();
    await sut.api
      .registerService(BILLING_WORKER, {
        schema: billingWorkerSchema(),
        recipientKey: recipient.publicKey.toString('base64'),
      })
      .expect(201);
    const billing = await SimulatedFleet.connect(broker.url, BILLING_WORKER);
    const topics = await MqttProbe.connect(broker.url, [`system/+/${BILLING_WORKER}`]);
    try {
      await billing.report('b-1');
      await until(
        'b-1 in the view',
        async () => (await sut.api.instances(BILLING_WORKER).expect(200)).body.length || undefined,
        { timeoutMs: 3000 },
      );
      await sut.api
        .putSecret(BILLING_WORKER, 'gateway.token', 'tok-staged-77', { publish: 'staged' })
        .expect(204);
      const created = (
        await sut.api
          .createRollout(BILLING_WORKER, {
            version: 2,
            strategy: { steps: [{ cohort: { instances: 1 } }, { cohort: { all: true } }] },
          })
          .expect(201)
      ).body;
      const message = await topics.waitFor(
        (m) => m.topic === `system/candidate/${BILLING_WORKER}` && m.payload.length > 0,
        'the billing candidate',
      );
      const sealed = candidateOf(message)?.secrets['gateway.token'];
      expect(openSealedSecret(sealed, recipient.secretKey).toString('utf8')).toBe('tok-staged-77');
      const stableBefore = await sut.api.config(BILLING_WORKER).expect(200);
      expect(stableBefore.body.secrets['gateway.token'].set).toBe(false);

      const schemaChange = await sut.api
        .registerService(BILLING_WORKER, {
          schema: billingWorkerSchema({}, { maximum: 400 }),
        })
        .expect(409);
      expect(schemaChange.body).toMatchObject({ code: 'ROLLOUT_ACTIVE' });
      await sut.api.archiveService(BILLING_WORKER).expect(409);
      expect((await sut.api.schemas(BILLING_WORKER).expect(200)).body).toHaveLength(1);

      await billing.applied('b-1', 2);
      await until(
        'complete',
        async () =>
          (await sut.api.rollout(BILLING_WORKER, created.id).expect(200)).body.state ===
            'complete' || undefined,
        { timeoutMs: 5000 },
      );
      const current = await sut.api.config(BILLING_WORKER).expect(200);
      expect(current.body.version).toBe(2);
      expect(current.body.secrets['gateway.token'].set).toBe(true);
      const stable = await topics.waitFor(
        (m) =>
          m.topic === `system/config/${BILLING_WORKER}` &&
          m.payload.length > 0 &&
          readEnvelope(m.payload).payload.version === 2,
        'v2 on the stable topic',
      );
      const secret = readEnvelope(stable.payload).payload.secrets['gateway.token'];
      expect(openSealedSecret(secret, recipient.secretKey).toString('utf8')).toBe('tok-staged-77');
      expect(sut.logs.text()).not.toContain('tok-staged-77');
    } finally {
      await topics.close();
      await billing.close();
    }
  });

  describe('refuses bad input with the field named, and starts nothing', () => {
    const refused = async (body: object, status: number, path: string) => {
      const res = await sut.api.createRollout(SERVICE, body).expect(status);
      expect(res.body.details?.map((d) => d.path)).toContain(path);
      return res.body;
    };

    afterEach(async () => {
      expect((await sut.api.rollouts(SERVICE).expect(200)).body).toEqual([]);
    });

    it('an unknown, unstaged or outdated version', async () => {
      await refused({ version: 9, strategy: canaryThenAll() }, 404, 'version');
      const unstaged = await refused({ version: 1, strategy: canaryThenAll() }, 409, 'version');
      expect(unstaged.code).toBe('VERSION_NOT_STAGED');
      await stage();
      await sut.api.patchConfig(SERVICE, { thresholds: { low: 0.3 } }).expect(200);
      const outdated = await refused({ version: 2, strategy: canaryThenAll() }, 409, 'version');
      expect(outdated).toMatchObject({ code: 'STAGED_VERSION_OUTDATED' });
      expect(outdated.message).toContain('older than v3');
    });

    it('steps that never reach everyone, percents outside (0, 100], counts below 1, a bake on the last step', async () => {
      await stage();
      const step = (cohort: object, bake?: object) => ({ cohort, ...(bake ? { bake } : {}) });
      const rollout = (...steps: object[]) => ({ version: 2, strategy: { steps } });
      await refused(rollout(step({ selector: { tier: 'canary' } })), 400, 'strategy.steps');
      await refused(rollout(step({ percent: 50 })), 400, 'strategy.steps');
      await refused(rollout(), 400, 'strategy.steps');
      for (const percent of [0, -5, 101, '50']) {
        await refused(
          rollout(step({ percent }), step({ all: true })),
          400,
          'strategy.steps.0.cohort.percent',
        );
      }
      await refused(
        rollout(step({ instances: 0 }), step({ all: true })),
        400,
        'strategy.steps.0.cohort.instances',
      );
      await refused(
        rollout(step({ instances: 1.5 }), step({ all: true })),
        400,
        'strategy.steps.0.cohort.instances',
      );
      await refused(rollout(step({ all: false })), 400, 'strategy.steps.0.cohort.all');
      await refused(rollout(step({ all: true }, { runs: 2 })), 400, 'strategy.steps.0.bake');
      await refused(
        rollout(step({ instances: 1 }, { runs: 0 }), step({ all: true })),
        400,
        'strategy.steps.0.bake.runs',
      );
    });

    it('a selector matching no instance that is up', async () => {
      await stage();
      const body = await refused(
        {
          version: 2,
          strategy: {
            steps: [{ cohort: { selector: { tier: 'gold' } } }, { cohort: { all: true } }],
          },
        },
        400,
        'strategy.steps.0.cohort.selector',
      );
      expect(body.message).toContain('matches no instance');
      await refused(
        {
          version: 2,
          strategy: { steps: [{ cohort: { selector: { Tier: 'x' } } }, { cohort: { all: true } }] },
        },
        400,
        'strategy.steps.0.cohort.selector.Tier',
      );
    });

    it('unknown fields and malformed shapes', async () => {
      await stage();
      const all = { cohort: { all: true } };
      await refused({ version: 2, strategy: { steps: [all] }, dryRun: true }, 400, 'dryRun');
      await refused(
        { version: 2, strategy: { steps: [all], speed: 'fast' } },
        400,
        'strategy.speed',
      );
      await refused(
        { version: 2, strategy: { steps: [{ ...all, wait: 1 }] } },
        400,
        'strategy.steps.0.wait',
      );
      await refused(
        { version: 2, strategy: { steps: [{ cohort: { all: true, percent: 10 } }] } },
        400,
        'strategy.steps.0.cohort',
      );
      await refused(
        { version: 2, strategy: { steps: [{ cohort: { all: true, size: 3 } }] } },
        400,
        'strategy.steps.0.cohort.size',
      );
      await refused(
        { version: 2, strategy: { steps: [all], ackTimeoutSeconds: 0 } },
        400,
        'strategy.ackTimeoutSeconds',
      );
      await refused(
        { version: 2, strategy: { steps: [all], maxFailedRuns: -1 } },
        400,
        'strategy.maxFailedRuns',
      );
      await refused({ version: '2', strategy: { steps: [all] } }, 400, 'version');
      await refused({ version: 2 }, 400, 'strategy');
      const res = await sut.api.createRollout(SERVICE, []).expect(400);
      expect(res.body.details?.[0].path).toBe('');
    });
  });
});
