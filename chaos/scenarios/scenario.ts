import type { BrokerMode } from '@app/testing';
import type { Stack } from '../lib/stack';

/** What one run of a scenario gets. */
export interface RunContext {
  readonly stack: Stack;
  /** Aborted at the run's timeout or the harness's deadline: pass it to every wait. */
  readonly signal: AbortSignal;
  /** 0-based number of this run within the scenario. */
  readonly index: number;
  /** The quick CI variant: smaller counts. */
  readonly short: boolean;
  /** Seed for generated data (fast-check), printed so a failure can be replayed. */
  readonly seed: number;
  /** A progress line on stderr. */
  readonly log: (message: string) => void;
}

/** One fault the harness injects, and what must hold despite it. */
export interface Scenario {
  readonly id: number;
  readonly title: string;
  /** The broker the stack runs: the production ACL, or open to an attacker. */
  readonly broker: BrokerMode;
  /**
   * INSTANCE_LABELS of the stack's workers, by position (`tier=canary`); unset: none has labels.
   */
  readonly workerLabels?: readonly (string | undefined)[];
  /** Two managers on two bridged brokers (StackOptions.bridged); unset: one of each. */
  readonly bridged?: boolean;
  /** A bridged stack without manager B (StackOptions.replicaManager); unset: with it. */
  readonly replicaManager?: boolean;
  /** Extra environment of the managers (StackOptions.managerEnv). */
  readonly managerEnv?: Readonly<Record<string, string>>;
  /** Extra environment of the workers (StackOptions.workerEnv). */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /** Longest one run may take. */
  readonly runTimeoutMs: number;
  /** What the number a run returns measures, and its unit (the table shows the median). */
  readonly figure: { readonly label: string; readonly unit: 'ms' | 'req/s' | 'writes/s' };
  /** Injects the fault, checks the outcome (throwing CheckFailed) and returns the run's figure. */
  run(context: RunContext): Promise<number>;
}
