import { timeLimit } from '@app/testing';
import type { Scenario } from '../scenarios/scenario';
import type { Options } from './cli';
import type { Janitor } from './janitor';
import type { ScenarioResult } from './report';
import { Stack } from './stack';

const HEAL_TIMEOUT_MS = 60_000;

/**
 * Runs one scenario `options.runs` times on one stack of its own. Before each run the stack is
 * healed (whatever the last run stopped is started again); after a failed run it is thrown away
 * and the next run gets a fresh one, so one failure cannot spill into the next runs. Each run is
 * bounded by the scenario's run timeout, the scenario budget and the global deadline.
 */
export async function runScenario(
  scenario: Scenario,
  options: Options,
  janitor: Janitor,
  deadline: AbortSignal,
): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    scenario,
    runs: options.runs,
    passed: 0,
    figures: [],
    failures: [],
  };
  const budget = AbortSignal.any([
    deadline,
    timeLimit(options.scenarioTimeoutMs, 'the scenario budget'),
  ]);
  const log = (message: string) => console.error(`[scenario ${scenario.id}] ${message}`);
  let stack: Stack | undefined;
  for (let index = 0; index < options.runs; index++) {
    const run = index + 1;
    if (budget.aborted) {
      const message = `not run: ${reasonOf(budget)}`;
      log(`run ${run}/${options.runs} ${message}`);
      result.failures.push({ run, message, tails: '' });
      continue;
    }
    const signal = AbortSignal.any([budget, timeLimit(scenario.runTimeoutMs, 'the run timeout')]);
    const started = Date.now();
    try {
      const healing = AbortSignal.any([signal, timeLimit(HEAL_TIMEOUT_MS, 'healing the stack')]);
      if (stack) await stack.heal(healing);
      else
        stack = await Stack.start(scenario.broker, janitor, healing, {
          workerLabels: scenario.workerLabels,
          bridged: scenario.bridged,
          replicaManager: scenario.replicaManager,
          managerEnv: scenario.managerEnv,
          workerEnv: scenario.workerEnv,
        });
      const figure = await untilAborted(
        scenario.run({
          stack,
          signal,
          index,
          short: options.short,
          seed: options.seed,
          log: (message) => log(`run ${run}: ${message}`),
        }),
        signal,
      );
      result.passed += 1;
      result.figures.push(figure);
      log(
        `run ${run}/${options.runs} passed in ${Date.now() - started} ms (figure ${figure.toFixed(1)} ${scenario.figure.unit})`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`run ${run}/${options.runs} FAILED after ${Date.now() - started} ms: ${message}`);
      result.failures.push({ run, message, tails: stack?.tails() ?? '' });
      await stack?.stop();
      stack = undefined;
    }
  }
  await stack?.stop();
  return result;
}

/** The run's result, or a rejection as soon as `signal` aborts (a stuck run is left behind). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // The abandoned run fails once its stack is stopped; nobody awaits it any more.
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`aborted: ${reasonOf(signal)}`));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}
