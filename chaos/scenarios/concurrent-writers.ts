import type { ManagerApi } from '../lib/api';
import { ensure } from '../lib/ensure';
import type { Scenario } from './scenario';

const CLIENTS = 10;
const TIMEOUT_MS = 60_000;

/** A write the manager accepted, and what it was based on. */
interface Accepted {
  version: number;
  basedOn: number;
  reason: string;
}

interface ClientOutcome {
  accepted: Accepted[];
  conflicts: number;
  unexpected: string[];
}

type Weights = { date: number; geo: number; title: number; description: number };

/**
 * 5. Ten admin clients PATCH at once, each with If-Match on the version it read, re-reading on
 * 412 until its writes are in (100 in all): no update is lost. The history holds exactly the
 * accepted writes, in order, each one version above the version it was based on, and the final
 * config holds every client's last write.
 */
export const concurrentWriters: Scenario = {
  id: 5,
  title: '10 clients PATCH concurrently with If-Match',
  broker: 'acl',
  runTimeoutMs: 120_000,
  figure: { label: 'accepted writes per second', unit: 'writes/s' },
  async run({ stack, short, signal }) {
    const writesPerClient = short ? 3 : 10;
    const total = CLIENTS * writesPerClient;
    const start = (await stack.api.config()).body.version;
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: CLIENTS }, (_, client) =>
        writeAll(stack.api, client, writesPerClient, signal),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;

    const unexpected = outcomes.flatMap((o) => o.unexpected);
    ensure(unexpected.length === 0, `unexpected answers: ${unexpected.slice(0, 5).join('; ')}`);
    const accepted = outcomes.flatMap((o) => o.accepted).sort((a, b) => a.version - b.version);
    ensure(accepted.length === total, `${accepted.length} writes accepted, not ${total}`);
    accepted.forEach((write, i) => {
      ensure(
        write.version === start + 1 + i && write.basedOn === write.version - 1,
        `write "${write.reason}" became v${write.version} on top of v${write.basedOn}; expected v${start + 1 + i} on v${start + i}`,
      );
    });

    const history = await stack.api.versions(total);
    ensure(history.status === 200, `history answered ${history.status}`);
    const recorded = history.body
      .filter((v) => v.version > start)
      .sort((a, b) => a.version - b.version)
      .map((v) => `v${v.version} ${v.reason}`);
    const expected = accepted.map((w) => `v${w.version} ${w.reason}`);
    ensure(
      JSON.stringify(recorded) === JSON.stringify(expected),
      `history differs from the accepted writes: ${firstDifference(recorded, expected)}`,
    );

    const final = (await stack.api.config()).body;
    const overrides = (final.config.category_weights as { overrides: Record<string, Weights> })
      .overrides;
    for (let client = 0; client < CLIENTS; client++) {
      const want = weights(client, writesPerClient - 1);
      ensure(
        JSON.stringify(overrides[categoryOf(client)]) === JSON.stringify(want),
        `client ${client}'s last write is lost: ${JSON.stringify(overrides[categoryOf(client)])}`,
      );
    }
    await stack.fleetOn(start + total, { signal, timeoutMs: TIMEOUT_MS });
    return total / elapsedS;
  },
};

/** One client's writes: read, PATCH with If-Match, on 412 read again; until all are in. */
async function writeAll(
  api: ManagerApi,
  client: number,
  writes: number,
  signal: AbortSignal,
): Promise<ClientOutcome> {
  const outcome: ClientOutcome = { accepted: [], conflicts: 0, unexpected: [] };
  for (let write = 0; write < writes;) {
    signal.throwIfAborted();
    const basedOn = (await api.config()).body.version;
    const reason = `client ${client} write ${write}`;
    const res = await api.patch(
      { category_weights: { overrides: { [categoryOf(client)]: weights(client, write) } } },
      { ifMatch: basedOn, reason },
    );
    if (res.status === 200) {
      outcome.accepted.push({ version: res.body.version, basedOn, reason });
      write += 1;
    } else if (res.status === 412) {
      outcome.conflicts += 1;
    } else {
      outcome.unexpected.push(`${reason}: ${res.status} ${JSON.stringify(res.body)}`);
      return outcome;
    }
  }
  return outcome;
}

/** Each client owns one category override, so a lost update shows as a missing last value. */
function categoryOf(client: number): string {
  return `chaos-client-${client}`;
}

/** Scoring weights (summing to 1) unique to a client and write, and unlike its previous write. */
function weights(client: number, write: number): Weights {
  const date = 0.1 + write * 0.02 + client * 0.001;
  return { date, geo: 0.25, title: 0.3, description: round(1 - date - 0.55) };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function firstDifference(actual: string[], expected: string[]): string {
  const i = actual.findIndex((line, index) => line !== expected[index]);
  const at = i === -1 ? Math.min(actual.length, expected.length) : i;
  return `at #${at}: history has "${actual[at] ?? '(nothing)'}", accepted "${expected[at] ?? '(nothing)'}" (${actual.length} vs ${expected.length})`;
}
