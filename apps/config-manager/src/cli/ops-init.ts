// `npm run ops:init [-- --dir DIR]`: the first-time setup of ops/compose.yml in one command.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PRIVATE_FILE_MODE } from '../common/private-files';
import { defaultKeyId, generateKeySet } from './key-set';

import { CliUserError, optionValue, runCliCommand, USAGE_EXIT } from './cli-command';

const USAGE = `Usage: npm run ops:init [-- --dir DIR]

First-time setup of ops/compose.yml. From DIR/.env.sample (DIR defaults to ops) writes
  DIR/.env                  every value of the sample, freshly generated: signing key, master
                            key, each service's X25519 key, LKG key, Postgres password, one
                            password per declared broker user, API_TOKENS (mode 0600)
  DIR/mosquitto-passwords   the broker's password file (mode 0600), and
  DIR/mosquitto-acl         its ACL file, both by ops/mosquitto-passwords.sh
and prints each API token once to stdout (only its SHA-256 is kept in DIR/.env).
Refuses when DIR/.env or DIR/mosquitto-passwords exists: move them away first.`;

/** What an ops:init run produced: the .env text and each API token, by name. */
export interface GeneratedEnv {
  text: string;
  tokens: { name: string; roles: string[]; token: string }[];
}

/** A sample line `NAME=value` (not a comment). */
const ASSIGNMENT = /^([A-Z][A-Z0-9_]*)=(.*)$/;
/** Every broker password variable of ops/mosquitto-passwords.sh's scheme. */
const MQTT_PASSWORD = /^MQTT_(MANAGER|WORKER)_PASSWORD(_[A-Z0-9_]+)?$/;
/** Values left in a sample for a person to replace. */
const PLACEHOLDER = /PLACEHOLDER|change-me/i;

/**
 * The sample with every secret value generated, keeping its lines, order and comments: keys
 * from `npm run keys -- generate` (one X25519 key per service; generated variables the sample
 * lacks are appended), hex Postgres password (URL-safe, it goes into DATABASE_URL), a
 * base64url password per MQTT_*_PASSWORD* line, API_TOKENS with fresh tokens' SHA-256 for each
 * entry the sample declares. Throws naming a variable still holding a placeholder.
 */
export function generateEnv(sample: string, now = new Date()): GeneratedEnv {
  const keys = new Map<string, string>();
  for (const line of generateKeySet(defaultKeyId(now))) {
    const match = ASSIGNMENT.exec(line);
    if (match) keys.set(match[1], match[2]);
  }
  const tokens: GeneratedEnv['tokens'] = [];
  const seen = new Set<string>();
  const lines = sample.split('\n').map((line) => {
    const match = ASSIGNMENT.exec(line);
    if (!match) return line;
    const [, name, value] = match;
    seen.add(name);
    const fresh = freshValue(name, value, keys, tokens);
    if (fresh === undefined && PLACEHOLDER.test(value)) {
      throw new CliUserError(
        `.env.sample: ops:init does not know how to generate ${name} (its value is a placeholder)`,
      );
    }
    return fresh === undefined ? line : `${name}=${fresh}`;
  });
  const missing = [...keys].filter(([name]) => !seen.has(name));
  const header = [
    `# Generated ${now.toISOString()} by "npm run ops:init" from .env.sample. Keep out of git,`,
    '# mode 0600, and keep a copy somewhere safe: a backup is useless without CONFIG_MASTER_KEY.',
    '',
  ];
  const extra =
    missing.length === 0
      ? []
      : [
          '',
          '# --- keys the sample does not list yet ---',
          ...missing.map(([n, v]) => `${n}=${v}`),
        ];
  // The sample's own header (how to fill it in by hand) up to its first blank line.
  const firstBlank = lines.findIndex((line) => line.trim() === '');
  const body = lines.slice(
    lines.slice(0, firstBlank).every((l) => l.startsWith('#')) ? firstBlank + 1 : 0,
  );
  return { text: [...header, ...body, ...extra].join('\n').replace(/\n*$/, '\n'), tokens };
}

function freshValue(
  name: string,
  value: string,
  keys: ReadonlyMap<string, string>,
  tokens: GeneratedEnv['tokens'],
): string | undefined {
  if (keys.has(name)) return keys.get(name);
  if (name === 'POSTGRES_PASSWORD') return randomBytes(24).toString('hex');
  if (MQTT_PASSWORD.test(name)) return randomBytes(24).toString('base64url');
  if (name === 'API_TOKENS') return apiTokens(value, tokens);
  return undefined;
}

/** API_TOKENS with a fresh token per entry of the sample (its names and roles). */
function apiTokens(sample: string, tokens: GeneratedEnv['tokens']): string {
  let entries: { name: string; roles: string[] }[];
  try {
    entries = JSON.parse(sample) as { name: string; roles: string[] }[];
    if (!Array.isArray(entries) || entries.length === 0) throw new Error('no entries');
  } catch (error) {
    throw new CliUserError(
      `.env.sample: API_TOKENS must be a JSON array of {"name","roles"}: ${(error as Error).message}`,
    );
  }
  return JSON.stringify(
    entries.map(({ name, roles }) => {
      const token = randomBytes(32).toString('base64url');
      tokens.push({ name, roles, token });
      return { name, roles, tokenSha256: createHash('sha256').update(token).digest('hex') };
    }),
  );
}

/** The repository's ops/mosquitto-passwords.sh, found upwards from this file (source or dist). */
function mosquittoPasswordsScript(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const script = join(dir, 'ops', 'mosquitto-passwords.sh');
    if (existsSync(script)) return script;
  }
  throw new CliUserError(
    'ops/mosquitto-passwords.sh not found: run ops:init from a checkout of the repository',
  );
}

/** Writes DIR/.env and the broker files; returns the tokens to print. */
function init(dir: string): GeneratedEnv['tokens'] {
  const sampleFile = join(dir, '.env.sample');
  const envFile = join(dir, '.env');
  const passwordFile = join(dir, 'mosquitto-passwords');
  const aclFile = join(dir, 'mosquitto-acl');
  for (const file of [envFile, passwordFile]) {
    if (existsSync(file)) {
      throw new CliUserError(
        `${file} exists; ops:init never overwrites it. Move it away first (keep it: it holds ` +
          'the keys your store and workers use) or edit it by hand (ops/README.md)',
      );
    }
  }
  let sample: string;
  try {
    sample = readFileSync(sampleFile, 'utf8');
  } catch (error) {
    throw new CliUserError(`Cannot read ${sampleFile}: ${(error as Error).message}`);
  }
  const generated = generateEnv(sample);
  const tmp = join(dir, `.env.ops-init.${process.pid}`);
  writeFileSync(tmp, generated.text, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  try {
    // The script owns the broker users (names, password variables, ACL): it reads them from
    // the new file, and only from it (no MQTT_* of this shell).
    execFileSync('bash', [mosquittoPasswordsScript(), passwordFile, aclFile], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        MQTT_ENV_FILE: tmp,
        ...pick(process.env, ['MOSQUITTO_UID', 'MOSQUITTO_GID']),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (existsSync(envFile)) throw new CliUserError(`${envFile} appeared meanwhile; not replaced`);
    renameSync(tmp, envFile);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    if (stderr) throw new CliUserError(`the broker files were not written: ${stderr.trim()}`);
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
  console.error(
    `ops:init: wrote ${envFile} (mode 0600), ${passwordFile} (mode 0600) and ${aclFile}.\n` +
      'Next: docker compose -f ops/compose.yml up -d --build',
  );
  return generated.tokens;
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] ? [[n, env[n]]] : [])));
}

function main(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const dir = optionValue(args, '--dir');
  const rest = args.filter(
    (a, i) => a !== '--dir' && args[i - 1] !== '--dir' && !a.startsWith('--dir='),
  );
  if (rest.length > 0) {
    console.error(`ops:init: unexpected argument ${rest[0]}\n\n${USAGE}`);
    return USAGE_EXIT;
  }
  const tokens = init(resolve(dir ?? 'ops'));
  for (const { name, roles, token } of tokens) {
    // stdout holds only the tokens, once: nothing else keeps them.
    console.log(`API token "${name}" (${roles.join(', ')}): ${token}`);
  }
  console.error('ops:init: store the token(s) now; only their SHA-256 is in .env.');
  return 0;
}

if (require.main === module) runCliCommand('ops:init', () => main(process.argv.slice(2)));
