import { randomInt } from 'node:crypto';

/** How the harness runs, from the command line. */
export interface Options {
  runs: number;
  scenarios: number[];
  short: boolean;
  /** Global deadline for the whole harness. */
  deadlineMs: number;
  /** Budget of one scenario: its stack and all its runs. */
  scenarioTimeoutMs: number;
  seed: number;
}

/** A bad command line; the message says what is wrong, followed by the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: node -r @swc-node/register chaos/run.ts [options]   (npm run chaos -- [options])

  --runs N                runs per scenario (default 5; --short: 2)
  --scenarios 1,2,…       which scenarios (default: all)
  --short                 the quick CI variant: 2 runs, smaller counts, 600 s deadline
  --deadline SECONDS      global deadline (default 3600; --short: 600)
  --scenario-timeout S    budget of one scenario, stack start and all runs (default 1200)
  --seed N                seed of the generated data (default: random, printed)
  --help                  this text`;

const DEFAULTS = { runs: 5, deadlineS: 3600, scenarioTimeoutS: 1200 };
const SHORT = { runs: 2, deadlineS: 600 };

/** Parses `argv` (without node and the script); `known` are the scenario ids that exist. */
export function parseOptions(argv: readonly string[], known: readonly number[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    if (name === '--short' || name === '--help') {
      flags.add(name);
    } else if (
      ['--runs', '--scenarios', '--deadline', '--scenario-timeout', '--seed'].includes(name)
    ) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option ${argv[i]}`);
    }
  }
  if (flags.has('--help')) throw new UsageError('');
  const short = flags.has('--short');
  const scenarios = values.has('--scenarios')
    ? (values.get('--scenarios') ?? '').split(',').map((s) => positive('--scenarios', s))
    : [...known];
  const unknown = scenarios.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new UsageError(`no scenario ${unknown.join(', ')} (there are ${known.join(', ')})`);
  }
  const number = (name: string, fallback: number) =>
    values.has(name) ? positive(name, values.get(name) ?? '') : fallback;
  return {
    runs: number('--runs', short ? SHORT.runs : DEFAULTS.runs),
    scenarios,
    short,
    deadlineMs: number('--deadline', short ? SHORT.deadlineS : DEFAULTS.deadlineS) * 1000,
    scenarioTimeoutMs: number('--scenario-timeout', DEFAULTS.scenarioTimeoutS) * 1000,
    seed: values.has('--seed')
      ? positive('--seed', values.get('--seed') ?? '')
      : randomInt(1, 2 ** 31),
  };
}

function positive(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${name} takes positive integers (got "${raw}")`);
  }
  return value;
}
