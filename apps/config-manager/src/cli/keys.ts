// cli/: the manager's command-line tools: `npm run keys` (fresh key sets, public halves) and
// `npm run secrets:rotate` (re-encrypt every secret under the current master key).
import 'reflect-metadata';
import { EnvString, readEnvironment, SERVICE_NAME_PATTERN } from '@app/contracts';
import {
  defaultKeyId,
  generateKeySet,
  generateServiceKeyLines,
  generateSigningLines,
  publicKeyLine,
  recipientKeyLine,
} from './key-set';

const USAGE = `Usage: npm run keys -- <command>

  generate [--kid ID]     every key a deployment needs, as env lines (default id ${defaultKeyId()})
  signing [--kid ID]      a new signing key pair only (key rotation)
  public-key              kid:publicKey of CONFIG_SIGNING_KEY / CONFIG_SIGNING_KEY_ID from the environment
  recipient-key SERVICE   service:publicKey of CONFIG_SECRET_KEY from the environment
  service-keys SERVICE    a new X25519 pair for a service registered over the API (its recipientKey)`;

/** The variables `public-key` and `recipient-key` read; the other commands read none. */
class KeysCommandEnvironment {
  @EnvString() CONFIG_SIGNING_KEY?: string;
  @EnvString() CONFIG_SIGNING_KEY_ID?: string;
  @EnvString() CONFIG_SECRET_KEY?: string;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `npm run keys -- …`: prints keys as env lines; never writes files. */
function main(args: string[], env: KeysCommandEnvironment): number {
  const [command, ...rest] = args;
  const kid = option(rest, '--kid') ?? defaultKeyId();
  switch (command) {
    case 'generate':
      console.log(generateKeySet(kid).join('\n'));
      return 0;
    case 'signing':
      console.log(generateSigningLines(kid).join('\n'));
      return 0;
    case 'public-key': {
      const secret = env.CONFIG_SIGNING_KEY;
      const id = env.CONFIG_SIGNING_KEY_ID;
      if (!secret || !id) {
        console.error('Set CONFIG_SIGNING_KEY and CONFIG_SIGNING_KEY_ID in the environment first.');
        return 2;
      }
      console.log(publicKeyLine(id, secret));
      return 0;
    }
    case 'recipient-key': {
      const secret = env.CONFIG_SECRET_KEY;
      if (!rest[0] || !secret) {
        console.error('Usage: CONFIG_SECRET_KEY=… npm run keys -- recipient-key <service>');
        return 2;
      }
      console.log(recipientKeyLine(rest[0], secret));
      return 0;
    }
    case 'service-keys':
      if (!rest[0] || !SERVICE_NAME_PATTERN.test(rest[0])) {
        console.error(
          `Usage: npm run keys -- service-keys <service> (${String(SERVICE_NAME_PATTERN)})`,
        );
        return 2;
      }
      console.log(generateServiceKeyLines(rest[0]).join('\n'));
      return 0;
    default:
      console.error(USAGE);
      return command ? 2 : 0;
  }
}

try {
  process.exitCode = main(
    process.argv.slice(2),
    readEnvironment(KeysCommandEnvironment, process.env).values,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
