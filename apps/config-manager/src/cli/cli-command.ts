import { EnvironmentError } from '@app/contracts';
import { loadSettings, type Settings } from '../settings/settings';

/**
 * A mistake of the operator's (bad argument, wrong file, missing tool, manager running): the
 * commands print its message alone, without a stack trace, and exit 1.
 */
export class CliUserError extends Error {}

/** A command's exit status for a usage mistake (bad or missing argument). */
export const USAGE_EXIT = 2;

/**
 * The manager's settings, read by its own loader (so DATABASE_URL and DATA_DIR default exactly
 * as the manager's do); warnings go to stderr, leaving stdout to the command.
 */
export function managerSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return loadSettings(env, { warn: (message) => console.error(`warning: ${message}`) });
}

/**
 * Runs a command of cli/ (`npm run backup`, `restore`, `ops:init`): an operator's mistake (a
 * CliUserError, a bad environment) prints its message alone and exits 1; anything else is a
 * bug and keeps its stack.
 */
export function runCliCommand(name: string, main: () => Promise<number> | number): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        if (error instanceof CliUserError || error instanceof EnvironmentError) {
          console.error(`${name}: ${error.message}`);
        } else {
          console.error(`${name}: unexpected failure`, error);
        }
        process.exitCode = 1;
      },
    );
}

/** The value of `--name VALUE` or `--name=VALUE`; undefined when absent; throws when empty. */
export function optionValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new CliUserError(`${name} needs a value`);
      }
      return value;
    }
    if (args[i].startsWith(`${name}=`)) {
      const value = args[i].slice(name.length + 1);
      if (!value) throw new CliUserError(`${name} needs a value`);
      return value;
    }
  }
  return undefined;
}
