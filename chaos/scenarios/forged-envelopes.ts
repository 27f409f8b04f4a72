import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { configTopic } from '@app/contracts';
import { until } from '@app/testing';
import { distanceChange } from '../lib/changes';
import { ensure } from '../lib/ensure';
import { forgeries } from '../lib/forgeries';
import { genuineWrite } from '../lib/writes';
import { SERVICE } from '../lib/stack';
import { median } from '../lib/stats';
import type { Scenario } from './scenario';

const TIMEOUT_MS = 15_000;

/**
 * 7. An attacker with write access to the broker (the stack runs it without authentication and
 * ACL) publishes, retained, a replay of an older genuine envelope and forged ones: signed with
 * its own key, under an unknown kid, a tampered payload, another service's envelope, a wrong
 * algorithm, garbage, an oversized message. Every worker rejects each one for the right reason
 * (its counters and the manager's instance view show it) and stays on its version; genuine
 * updates still go through afterwards.
 */
export const forgedEnvelopes: Scenario = {
  id: 7,
  title: 'attacker replays and forges envelopes',
  broker: 'open',
  runTimeoutMs: 120_000,
  figure: { label: 'forgery published → rejected by every worker', unit: 'ms' },
  async run({ stack, signal }) {
    // Two genuine versions recorded off the bus: one to replay, one to tamper with.
    const older = await genuineWrite(stack, signal);
    const current = await genuineWrite(stack, signal);
    const version = current.version;

    const attacker = await connectAsync(stack.broker.url, {
      clientId: `chaos-attacker-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
    });
    const timings: number[] = [];
    try {
      const attacks = forgeries({
        older: older.bytes,
        current: current.bytes,
        kid: stack.signing.kid,
        managerKey: stack.signing.secretKey,
      });
      for (const attack of attacks) {
        const before = await Promise.all(stack.workers.map((w) => w.view()));
        const published = Date.now();
        await attacker.publishAsync(configTopic(SERVICE), attack.bytes, { qos: 1, retain: true });
        const views = await until(
          `every worker rejects "${attack.name}" as ${attack.reason}`,
          async () => {
            const now = await Promise.all(stack.workers.map((w) => w.view()));
            const counted = now.every(
              (v, i) => v.rejected[attack.reason] === (before[i].rejected[attack.reason] ?? 0) + 1,
            );
            return counted ? now : undefined;
          },
          { signal, timeoutMs: TIMEOUT_MS, intervalMs: 10 },
        );
        timings.push(Date.now() - published);
        for (const [i, view] of views.entries()) {
          ensure(
            view.appliedVersion === version,
            `${stack.workers[i].instanceId} is on v${view.appliedVersion} after "${attack.name}", not v${version}`,
          );
        }
      }
      const last = attacks[attacks.length - 1];
      await until(
        `the instance view shows every worker's last rejection (${last.reason})`,
        async () => {
          const { body } = await stack.api.instances();
          return (
            stack.workers.every((w) =>
              body.some(
                (i) => i.instanceId === w.instanceId && i.lastRejection?.reason === last.reason,
              ),
            ) || undefined
          );
        },
        { signal, timeoutMs: TIMEOUT_MS },
      );
    } finally {
      await attacker.endAsync(true);
    }

    // The retained message is the attacker's now: put the genuine one back, then a new version.
    const republished = await stack.api.republish();
    ensure(republished.status === 200, `republish answered ${republished.status}`);
    const after = await stack.api.patch(distanceChange());
    ensure(after.status === 200, `a genuine write after the attack answered ${after.status}`);
    await stack.fleetOn(after.body.version, { signal, timeoutMs: TIMEOUT_MS });
    const regressions = stack.regressions();
    ensure(regressions.length === 0, `a worker went back: ${regressions.join('; ')}`);
    return median(timings);
  },
};
