import { EnvironmentError } from '@app/contracts';
import { loadSettings, type Settings } from '../settings/settings';
import { BackupUserError } from './store-backup';

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
 * Runs a store command (`npm run backup`, `npm run restore`): an operator's mistake (a
 * BackupUserError, a bad environment) prints its message alone and exits 1; anything else is a
 * bug and keeps its stack.
 */
export function runStoreCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof BackupUserError || error instanceof EnvironmentError) {
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
        throw new BackupUserError(`${name} needs a value`);
      }
      return value;
    }
    if (args[i].startsWith(`${name}=`)) {
      const value = args[i].slice(name.length + 1);
      if (!value) throw new BackupUserError(`${name} needs a value`);
      return value;
    }
  }
  return undefined;
}
