import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { configTopic } from '@app/contracts';
import { until } from '@app/testing';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import { forgeries, type Forgery } from '../lib/forgeries';
import { genuineWrite } from '../lib/writes';
import { SERVICE, type Stack } from '../lib/stack';
import { median } from '../lib/stats';
import type { Scenario } from './scenario';

const TIMEOUT_MS = 15_000;

/**
 * 8. An attacker with write access to the broker leaves, retained on system/config/dedup-worker,
 * an empty message (which deletes the retained config: a worker starting next would run on the
 * schema defaults), garbage, forgeries and a replay of an older genuine envelope. After each
 * one the manager's own current envelope is retained again without an admin: the manager sees
 * its topic, republishes, and reports the incident on /health/ready. Every worker stays on the
 * current version, and a genuine write still reaches everyone afterwards.
 */
export const retainedConfigAttacks: Scenario = {
  id: 8,
  title: 'empty and forged retained config',
  broker: 'open',
  runTimeoutMs: 120_000,
  figure: { label: 'attack retained → manager’s envelope retained again', unit: 'ms' },
  async run({ stack, signal, log }) {
    const older = await genuineWrite(stack, signal);
    const current = await genuineWrite(stack, signal);
    const attacks: Forgery[] = [
      { name: 'an empty retained message', bytes: Buffer.alloc(0), reason: 'malformed' },
      ...forgeries({
        older: older.bytes,
        current: current.bytes,
        kid: stack.signing.kid,
        managerKey: stack.signing.secretKey,
      }),
    ];
    const attacker = await connectAsync(stack.broker.url, {
      clientId: `chaos-attacker-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
    });
    const incidentsBefore = await incidents(stack);
    const timings: number[] = [];
    try {
      for (const attack of attacks) {
        const seen = stack.observer.configs.length;
        const published = Date.now();
        await attacker.publishAsync(configTopic(SERVICE), attack.bytes, { qos: 1, retain: true });
        // The manager's republish comes after the attacker's message on the topic.
        await until(
          `the manager republishes v${current.version} after "${attack.name}"`,
          () =>
            stack.observer.configs
              .slice(seen)
              .some((m, i) => i > 0 && m.version === current.version) || undefined,
          { signal, timeoutMs: TIMEOUT_MS, intervalMs: 5 },
        );
        timings.push(Date.now() - published);
        const retained = await stack.observer.retainedConfigVersion();
        ensure(
          retained === current.version,
          `after "${attack.name}" a new subscriber gets v${retained ?? 'nothing'}, not v${current.version}`,
        );
      }
    } finally {
      await attacker.endAsync(true);
    }

    const reported = await incidents(stack);
    ensure(
      reported - incidentsBefore === attacks.length,
      `/health/ready reports ${reported - incidentsBefore} incidents for ${attacks.length} attacks`,
    );
    for (const worker of stack.workers) {
      const view = await worker.view();
      ensure(
        view.appliedVersion === current.version,
        `${worker.instanceId} is on v${view.appliedVersion} after the attacks, not v${current.version}`,
      );
    }
    const after = await stack.api.patch(distanceChange());
    ensure(after.status === 200, `a genuine write after the attacks answered ${after.status}`);
    await stack.fleetOn(after.body.version, { signal, timeoutMs: TIMEOUT_MS });
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    log(
      `${attacks.length} attacks repaired, median ${median(timings)} ms, slowest ${Math.max(...timings)} ms`,
    );
    return median(timings);
  },
};

/** The manager's count of incidents on its config topics (GET /health/ready). */
async function incidents(stack: Stack): Promise<number> {
  const ready = await stack.api.ready();
  const checks = (ready.body as { checks?: { retainedConfigs?: { incidents?: unknown } } }).checks;
  const count = checks?.retainedConfigs?.incidents;
  ensure(typeof count === 'number', `/health/ready has no retainedConfigs incidents count`);
  return count;
}
