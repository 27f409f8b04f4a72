import { isAbsolute, resolve } from 'node:path';
import type { EnvFieldContext } from '@app/contracts';
import { CryptoError, type MasterKey, masterKeyFromBase64, sha256 } from '@app/crypto';
import type { ApiTokenSetting, DatabaseSettings } from './settings';

// Parsers of ManagerEnvironment's variables that are more than a number, a name or a URL.

const ROLES = ['config:read', 'config:write', 'secrets:write', 'admin'];

/** `sqlite:<path>` or `postgres://user@host:port/db?schema=name`. */
export function parseDatabaseUrl(raw: string, ctx: EnvFieldContext): DatabaseSettings | undefined {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (!path) {
      ctx.problem('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/config.db');
      return undefined;
    }
    return { type: 'sqlite', path: path === ':memory:' || isAbsolute(path) ? path : resolve(path) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.problem('DATABASE_URL is not a valid postgres:// URL');
      return undefined;
    }
    const schema = url.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      ctx.problem('DATABASE_URL schema must match ^[a-z_][a-z0-9_]{0,62}$');
      return undefined;
    }
    url.searchParams.delete('schema');
    return { type: 'postgres', url: url.toString(), schema };
  }
  ctx.problem('DATABASE_URL must start with sqlite: or postgres://');
  return undefined;
}

/** CONFIG_MASTER_KEY: 32 bytes of base64. */
export function parseMasterKey(raw: string, ctx: EnvFieldContext): MasterKey | undefined {
  try {
    return masterKeyFromBase64(raw, ctx.name);
  } catch (error) {
    ctx.problem(error instanceof CryptoError ? error.message : `${ctx.name} is invalid`);
    return undefined;
  }
}

/** CONFIG_MASTER_KEYS_PREVIOUS: comma-separated master keys, each named by its position. */
export function parseMasterKeyList(raw: string, ctx: EnvFieldContext): MasterKey[] | undefined {
  let valid = true;
  const keys = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((value, i) => {
      const key = parseMasterKey(value, { ...ctx, name: `${ctx.name}[${i}]` });
      valid &&= key !== undefined;
      return key === undefined ? [] : [key];
    });
  return valid ? keys : undefined;
}

/** `https://a.example,http://localhost:5173`: each entry an exact http(s) origin. */
export function parseCorsOrigins(raw: string, ctx: EnvFieldContext): string[] | undefined {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let valid = true;
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      origin = url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
    } catch {
      origin = undefined;
    }
    if (origin !== entry.replace(/\/$/, '')) {
      ctx.problem(
        `CORS_ORIGINS entries must be origins like https://console.example.com (got "${entry}")`,
      );
      valid = false;
    }
  }
  return valid ? entries.map((entry) => entry.replace(/\/$/, '')) : undefined;
}

interface RawToken {
  name?: unknown;
  roles?: unknown;
  token?: unknown;
  tokenSha256?: unknown;
}

/** API_TOKENS: a JSON array of `{ name, roles, token | tokenSha256 }`; only hashes are kept. */
export function parseApiTokens(raw: string, ctx: EnvFieldContext): ApiTokenSetting[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    ctx.problem(
      'API_TOKENS must be a JSON array like [{"name":"ops","roles":["admin"],"token":"..."}]',
    );
    return undefined;
  }
  if (!Array.isArray(parsed)) {
    ctx.problem('API_TOKENS must be a JSON array');
    return undefined;
  }
  let valid = true;
  const problem = (message: string) => {
    ctx.problem(message);
    valid = false;
  };
  const tokens: ApiTokenSetting[] = [];
  parsed.forEach((entry: RawToken, i) => {
    const where = `API_TOKENS[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      return problem(`${where} must be an object`);
    }
    if (typeof entry.name !== 'string' || !/^[\w.@-]{1,64}$/.test(entry.name)) {
      return problem(`${where}.name must be 1-64 characters of letters, digits, . _ @ -`);
    }
    const roles = entry.roles;
    if (
      !Array.isArray(roles) ||
      roles.length === 0 ||
      !roles.every((r) => ROLES.includes(r as string))
    ) {
      return problem(`${where}.roles must be a non-empty array of ${ROLES.join(', ')}`);
    }
    let tokenSha256: Buffer;
    if (typeof entry.token === 'string' && entry.tokenSha256 === undefined) {
      if (entry.token.length < 16) {
        return problem(`${where}.token must be at least 16 characters`);
      }
      tokenSha256 = sha256(entry.token);
    } else if (typeof entry.tokenSha256 === 'string' && entry.token === undefined) {
      if (!/^[0-9a-f]{64}$/i.test(entry.tokenSha256)) {
        return problem(`${where}.tokenSha256 must be 64 hex characters`);
      }
      tokenSha256 = Buffer.from(entry.tokenSha256, 'hex');
    } else {
      return problem(`${where} needs exactly one of "token" or "tokenSha256"`);
    }
    tokens.push({ name: entry.name, roles: roles as string[], tokenSha256 });
  });
  const names = tokens.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) problem(`API_TOKENS has two tokens named "${duplicate}"`);
  return valid ? tokens : undefined;
}
