// `npm run restore -- FILE` (from source) or, in the image,
// `node dist/apps/config-manager/src/cli/restore.js FILE`.
import 'reflect-metadata';
import { resolve } from 'node:path';
import { backupFormatOf, describeStore, storeBackupFor } from './store-backup';
import { CliUserError, managerSettings, runCliCommand, USAGE_EXIT } from './cli-command';

const USAGE = `Usage: npm run restore -- FILE

Replaces the content of config-manager's store (DATABASE_URL, read like the manager reads it)
with a backup written by npm run backup. Stop the manager first: the command refuses while a
manager uses the store. A SQLite backup restores only into a sqlite: DATABASE_URL, a Postgres
dump only into a postgres:// one, and into the schema it was taken from (needs pg_restore).

The restored secrets open only with the master key they were sealed under: start the manager
with that key as CONFIG_MASTER_KEY or in CONFIG_MASTER_KEYS_PREVIOUS.`;

/** Restores the backup in the only argument into the manager's store; exit 0 on success. */
async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const option = args.find((a) => a.startsWith('-'));
  if (option) throw new CliUserError(`unknown option ${option}\n\n${USAGE}`);
  if (args.length !== 1) {
    console.error(
      `restore: ${args.length === 0 ? 'FILE is required' : 'one FILE only'}\n\n${USAGE}`,
    );
    return USAGE_EXIT;
  }
  const file = resolve(args[0]);
  const format = backupFormatOf(file);
  const settings = managerSettings();
  if (format !== settings.database.type) {
    throw new CliUserError(
      `${file} is a ${format === 'sqlite' ? 'SQLite backup' : 'Postgres (pg_dump) backup'}, but ` +
        `${describeStore(settings.database)} is a ${settings.database.type === 'sqlite' ? 'SQLite' : 'Postgres'} store: ` +
        `set DATABASE_URL to a ${format === 'sqlite' ? 'sqlite:' : 'postgres://'} store to restore it`,
    );
  }
  await storeBackupFor(settings.database).restore(file);
  console.error(
    `restore: restored ${file} into ${describeStore(settings.database)}; start the manager now`,
  );
  return 0;
}

runCliCommand('restore', () => main(process.argv.slice(2)));
