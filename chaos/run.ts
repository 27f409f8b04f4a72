import { timeLimit } from '@app/testing';
import { parseOptions, USAGE, UsageError } from './lib/cli';
import { Janitor } from './lib/janitor';
import { formatTable, ScenarioResult, writeResults } from './lib/report';
import { runScenario } from './lib/runner';
import { brokerKill } from './scenarios/broker-kill';
import { bridgedReplicas } from './scenarios/bridged-replicas';
import { coldStart } from './scenarios/cold-start';
import { concurrentWriters } from './scenarios/concurrent-writers';
import { forgedEnvelopes } from './scenarios/forged-envelopes';
import { fuzzedPatches } from './scenarios/fuzzed-patches';
import { managerCrash } from './scenarios/manager-crash';
import { postgresOutage } from './scenarios/postgres-outage';
import { restore } from './scenarios/restore';
import { retainedConfigAttacks } from './scenarios/retained-config-attacks';
import { rolloutManagerCrash } from './scenarios/rollout-manager-crash';
import type { Scenario } from './scenarios/scenario';
import { spoofedInstances } from './scenarios/spoofed-instances';
import { staleBroker } from './scenarios/stale-broker';
import { workerCrash } from './scenarios/worker-crash';

/** Every scenario, in order (see chaos/README.md). */
const SCENARIOS: readonly Scenario[] = [
  brokerKill,
  managerCrash,
  postgresOutage,
  workerCrash,
  concurrentWriters,
  fuzzedPatches,
  forgedEnvelopes,
  retainedConfigAttacks,
  spoofedInstances,
  rolloutManagerCrash,
  bridgedReplicas,
  staleBroker,
  restore,
  coldStart,
];

async function main(): Promise<number> {
  const options = parseOptions(
    process.argv.slice(2),
    SCENARIOS.map((s) => s.id),
  );
  const janitor = new Janitor();
  // Whatever happens, no process or temp dir of the harness outlives it.
  process.on('exit', () => janitor.runAll());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping every process of the harness`);
      janitor.runAll();
      process.exit(130);
    });
  }

  console.error(
    `chaos: scenarios ${options.scenarios.join(',')}, ${options.runs} run(s) each${options.short ? ' (short)' : ''}, ` +
      `deadline ${options.deadlineMs / 1000} s, seed ${options.seed} (replay with --seed ${options.seed})`,
  );
  const started = Date.now();
  const deadline = timeLimit(options.deadlineMs, 'the global deadline');
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.id))) {
    results.push(await runScenario(scenario, options, janitor, deadline));
  }
  const wallMs = Date.now() - started;

  console.log(formatTable(results));
  console.log(
    `wall time ${(wallMs / 1000).toFixed(1)} s; details in ${writeResults(results, options, wallMs)}`,
  );
  return results.every((r) => r.passed === r.runs) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message ? `${error.message}\n\n${USAGE}` : USAGE);
      process.exit(error.message ? 2 : 0);
    }
    console.error(error);
    process.exit(1);
  },
);
