import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { healthTopic } from '@app/contracts';
import { until } from '@app/testing';
import { ensure } from '../lib/ensure';
import { SERVICE, type Stack } from '../lib/stack';
import type { Scenario } from './scenario';

const SPOOFED = 5000;
/** The manager's default INSTANCES_MAX_PER_SERVICE (the harness does not change it). */
const CAP = 2000;
/** Implausible reports mixed in: another service, another instance, an unpublished version. */
const IMPLAUSIBLE = 100;
const TIMEOUT_MS = 60_000;
const BATCH = 200;
/** The default page of GET …/instances must stay small whatever the fleet says. */
const MAX_PAGE_BYTES = 100 * 1024;
/** No refusal counted for this long: the flood has been absorbed. */
const SETTLE_MS = 1000;

/**
 * 9. An attacker with write access to the broker publishes, as fast as it can, retained health
 * reports for 5,000 instances that do not exist, plus reports that name another service, another
 * instance than their topic, or a version never published. The manager's instance view stays
 * bounded (INSTANCES_MAX_PER_SERVICE), refuses and counts the rest, keeps showing the real
 * workers as they are, and answers with pages of bounded size. The attacker's retained reports
 * are deleted afterwards (empty retained messages), which empties the view of them again.
 */
export const spoofedInstances: Scenario = {
  id: 9,
  title: '5,000 spoofed instances',
  broker: 'open',
  runTimeoutMs: 180_000,
  figure: { label: '5,000 spoofed reports published → view settled at its cap', unit: 'ms' },
  async run({ stack, signal, index, log }) {
    const { version } = (await stack.api.config()).body;
    const before = await refusals(stack);
    const rssBefore = await managerRss(stack);
    const attacker = await connectAsync(stack.broker.url, {
      clientId: `chaos-spoofer-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
    });
    const ids = Array.from({ length: SPOOFED }, (_, i) => `spoof-${index}-${i}`);
    try {
      const started = Date.now();
      await publishAll(
        attacker,
        ids.map((instanceId) => ({
          topic: healthTopic(SERVICE, instanceId),
          body: { service: SERVICE, instanceId, status: 'online', appliedVersion: version },
        })),
      );
      await publishAll(
        attacker,
        Array.from({ length: IMPLAUSIBLE }, (_, i) => {
          const instanceId = `implausible-${index}-${i}`;
          const lie = [
            { service: 'billing-sync', instanceId },
            { service: SERVICE, instanceId: `${instanceId}-other` },
            { service: SERVICE, instanceId, appliedVersion: version + 1000 },
          ][i % 3];
          return { topic: healthTopic(SERVICE, instanceId), body: { status: 'online', ...lie } };
        }),
      );
      const published = Date.now() - started;
      // The broker may drop part of a flood on its way to the manager (mosquitto queues at most
      // max_queued_messages per client): settled means at the cap, and no report still arriving.
      let state = '';
      let last = { capacity: -1, implausible: -1, at: 0 };
      const settled = await until(
        'the view settles at its cap',
        async () => {
          const total = Number((await stack.api.instances()).headers.get('x-total-count'));
          const now = await refusals(stack);
          state = `${total} in the view, refused ${JSON.stringify(now)} (before ${JSON.stringify(before)})`;
          const still = now.capacity === last.capacity && now.implausible === last.implausible;
          if (!still) last = { ...now, at: Date.now() };
          return total === CAP && still && Date.now() - last.at >= SETTLE_MS
            ? last.at - started
            : undefined;
        },
        { signal, timeoutMs: TIMEOUT_MS, intervalMs: 100, describe: () => state },
      );
      const refused = {
        capacity: last.capacity - before.capacity,
        implausible: last.implausible - before.implausible,
      };
      const admitted = CAP - stack.workers.length;
      ensure(
        refused.capacity >= 1 && admitted + refused.capacity <= SPOOFED,
        `refused ${refused.capacity} for capacity, admitted ${admitted}, of ${SPOOFED} spoofed`,
      );
      ensure(
        refused.implausible <= IMPLAUSIBLE,
        `refused ${refused.implausible} implausible reports of ${IMPLAUSIBLE} sent`,
      );

      const page = await stack.api.instances();
      const bytes = Buffer.byteLength(JSON.stringify(page.body));
      ensure(
        page.body.length <= 200 && bytes <= MAX_PAGE_BYTES,
        `the default page has ${page.body.length} entries, ${bytes} bytes`,
      );
      const everyone = await allInstances(stack);
      for (const worker of stack.workers) {
        const seen = everyone.find((i) => i.instanceId === worker.instanceId);
        ensure(
          seen?.status === 'online' && seen.appliedVersion === version,
          `${worker.instanceId} shows as ${JSON.stringify(seen)} under the flood, not online on v${version}`,
        );
      }
      ensure(
        !everyone.some((i) => i.instanceId.startsWith('implausible-')),
        'an implausible report made it into the view',
      );
      const rssAfter = await managerRss(stack);
      log(
        `published ${SPOOFED + IMPLAUSIBLE} reports in ${published} ms; view at ${CAP} after ${settled} ms; ` +
          `refused ${refused.capacity} for capacity and ${refused.implausible} implausible, ` +
          `${SPOOFED + IMPLAUSIBLE - admitted - refused.capacity - refused.implausible} dropped by the broker; ` +
          `default page ${bytes} bytes; ` +
          `manager RSS ${mb(rssBefore)} → ${mb(rssAfter)} MB`,
      );

      // Clean up as the broker's owner would: empty retained messages delete the reports. The
      // broker may drop some deletions on their way to the manager too: send those again.
      const spoofedPrefix = `spoof-${index}-`;
      let left = ids;
      await until(
        'the spoofed instances leave the view once their reports are deleted',
        async () => {
          await publishAll(
            attacker,
            left.map((instanceId) => ({
              topic: healthTopic(SERVICE, instanceId),
              body: undefined,
            })),
          );
          left = (await allInstances(stack))
            .map((i) => i.instanceId)
            .filter((id) => id.startsWith(spoofedPrefix));
          return left.length === 0 || undefined;
        },
        { signal, timeoutMs: TIMEOUT_MS, intervalMs: 200 },
      );
      return settled;
    } finally {
      await attacker.endAsync(true);
    }
  },
};

/** Publishes retained QoS 1 messages, BATCH at a time (an empty one for `body: undefined`). */
async function publishAll(
  client: MqttClient,
  messages: ReadonlyArray<{ topic: string; body: object | undefined }>,
): Promise<void> {
  for (let i = 0; i < messages.length; i += BATCH) {
    await Promise.all(
      messages.slice(i, i + BATCH).map(({ topic, body }) =>
        client.publishAsync(topic, body === undefined ? Buffer.alloc(0) : JSON.stringify(body), {
          qos: 1,
          retain: true,
        }),
      ),
    );
  }
}

/** Every page of the instance view. */
async function allInstances(
  stack: Stack,
): Promise<Array<{ instanceId: string; status: string; appliedVersion: number | null }>> {
  const all: Array<{ instanceId: string; status: string; appliedVersion: number | null }> = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await stack.api.instances(`?limit=1000&offset=${offset}`);
    all.push(...page.body);
    if (page.body.length < 1000) return all;
  }
}

/** The manager's refusal counters from /metrics: over the cap, and implausible (any other reason). */
async function refusals(stack: Stack): Promise<{ capacity: number; implausible: number }> {
  const text = await stack.api.metrics();
  let capacity = 0;
  let implausible = 0;
  for (const match of text.matchAll(
    /^config_instance_reports_refused_total\{service="dedup-worker",reason="([a-z]+)"\} (\d+)$/gm,
  )) {
    if (match[1] === 'capacity') capacity += Number(match[2]);
    else implausible += Number(match[2]);
  }
  return { capacity, implausible };
}

async function managerRss(stack: Stack): Promise<number> {
  const match = /^process_resident_memory_bytes (\d+)$/m.exec(await stack.api.metrics());
  return match ? Number(match[1]) : Number.NaN;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
