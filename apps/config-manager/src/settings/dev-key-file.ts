import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** File in DATA_DIR holding keys generated for development (mode 0600). */
export const DEV_KEYS_FILE = 'dev-keys.json';

/** Something that receives warnings produced while settings are loaded (the boot logger). */
export interface SettingsWarn {
  warn(message: string): void;
}

/**
 * Keys generated for development, kept in one 0600 JSON file in DATA_DIR so that restarts (and,
 * later, a local worker) reuse them.
 */
export class DevKeyFile {
  private readonly path: string;
  private readonly values: Record<string, string>;
  private dirty = false;

  constructor(
    private readonly dataDir: string,
    private readonly enabled: boolean,
    private readonly warn: SettingsWarn,
  ) {
    this.path = join(dataDir, DEV_KEYS_FILE);
    this.values = enabled && existsSync(this.path) ? readDevKeys(this.path) : {};
  }

  getOrGenerate(name: string, generate: () => string): string | undefined {
    if (!this.enabled) return undefined;
    if (!this.values[name]) {
      this.values[name] = generate();
      this.dirty = true;
      this.warn.warn(
        `${name} is not set: generated a development key into ${this.path}. ` +
          'Set it explicitly (openssl rand -base64 32) before production; NODE_ENV=production refuses to start without it.',
      );
    }
    return this.values[name];
  }

  save(): void {
    if (!this.dirty) return;
    mkdirSync(this.dataDir, { recursive: true });
    writeFileSync(this.path, JSON.stringify(this.values, null, 2) + '\n', { mode: 0o600 });
    chmodSync(this.path, 0o600);
  }
}

function readDevKeys(path: string): Record<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path} must be a JSON object of generated keys; delete it to regenerate`);
  }
  return Object.fromEntries(
    Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}
