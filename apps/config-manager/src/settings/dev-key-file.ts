import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDirectory } from '../common/private-files';

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
  private readonly generated: string[] = [];
  private readonly reused = new Set<string>();

  constructor(
    private readonly dataDir: string,
    private readonly enabled: boolean,
    private readonly warn: SettingsWarn,
  ) {
    this.path = join(dataDir, DEV_KEYS_FILE);
    this.values = enabled && existsSync(this.path) ? readDevKeys(this.path) : {};
  }

  /** The stored development value of `name`, generating it on first use; undefined in production. */
  getOrGenerate(name: string, generate: () => string): string | undefined {
    if (!this.enabled) return undefined;
    if (this.values[name]) {
      this.reused.add(name);
    } else {
      this.values[name] = generate();
      this.generated.push(name);
    }
    return this.values[name];
  }

  /** Writes newly generated keys (mode 0600) and says, once, which keys are development keys. */
  save(): void {
    if (this.generated.length > 0) {
      ensurePrivateDirectory(this.dataDir);
      writeFileSync(this.path, JSON.stringify(this.values, null, 2) + '\n', { mode: 0o600 });
      chmodSync(this.path, 0o600);
    }
    const names = [...this.generated, ...this.reused];
    if (names.length > 0) {
      this.warn.warn(
        `Using development keys from ${this.path} for ${names.join(', ')}` +
          `${this.generated.length > 0 ? ` (generated now: ${this.generated.join(', ')})` : ''}. ` +
          'For real deployments set them explicitly (npm run keys -- generate); NODE_ENV=production refuses to start without them.',
      );
    }
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
