// `npm run backup -- --out FILE` (from source) or, in the image,
// `node dist/apps/config-manager/src/cli/backup.js --out FILE`.
import 'reflect-metadata';
import { resolve } from 'node:path';
import { describeStore, storeBackupFor } from './store-backup';
import {
  CliUserError,
  managerSettings,
  optionValue,
  runCliCommand,
  USAGE_EXIT,
} from './cli-command';

const USAGE = `Usage: npm run backup -- --out FILE

Writes a consistent copy of config-manager's store (DATABASE_URL, read like the manager reads
it) to FILE, mode 0600, while the manager runs: SQLite through its online backup API, Postgres
as a pg_dump custom-format dump of the manager's schema (needs pg_dump on the PATH).

The backup holds secrets only as ciphertext under CONFIG_MASTER_KEY: keep that key (and
CONFIG_MASTER_KEYS_PREVIOUS) elsewhere; a restore needs it. Restore with: npm run restore -- FILE`;

/** Backs up the manager's store to `--out`; exit 0 on success. */
async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const out = optionValue(args, '--out');
  const rest = args.filter(
    (a, i) => a !== '--out' && args[i - 1] !== '--out' && !a.startsWith('--out='),
  );
  if (rest.length > 0) throw new CliUserError(`unexpected argument ${rest[0]}\n\n${USAGE}`);
  if (!out) {
    console.error(`backup: --out FILE is required\n\n${USAGE}`);
    return USAGE_EXIT;
  }
  const settings = managerSettings();
  const file = resolve(out);
  await storeBackupFor(settings.database).backup(file);
  console.error(`backup: wrote ${file} (mode 0600) from ${describeStore(settings.database)}`);
  return 0;
}

runCliCommand('backup', () => main(process.argv.slice(2)));
