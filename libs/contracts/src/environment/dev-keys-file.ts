import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isPlainObject } from '../json/plain-object';

/** File in DATA_DIR holding the keys config-manager generated for development (mode 0600). */
export const DEV_KEYS_FILE = 'dev-keys.json';

/**
 * DATA_DIR/dev-keys.json: the keys generated for development, so that `npm start` needs no key
 * copying and restarts reuse them. config-manager generates its keys into it; the worker SDK
 * reads them (deriving its own variables) and adds only LKG_HMAC_KEY. Never opened in
 * production. Written atomically (temp file and rename: the other program may be reading it),
 * mode 0600, its directory created 0700. The content is never echoed in messages.
 */
export class DevKeysFile {
  /** Names of the entries generated since the file was opened, in order. */
  readonly generated: string[] = [];
  private changed = false;

  private constructor(
    /** The file's path. */
    readonly path: string,
    /** Whether the file existed when it was opened. */
    readonly exists: boolean,
    /** False when the file exists but is not a JSON object: it is then neither used nor overwritten. */
    readonly readable: boolean,
    private readonly entries: Record<string, unknown>,
  ) {}

  /** Reads `<dataDir>/dev-keys.json` if it exists. */
  static open(dataDir: string): DevKeysFile {
    const path = join(dataDir, DEV_KEYS_FILE);
    if (!existsSync(path)) {
      return new DevKeysFile(path, false, true, {});
    }
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (isPlainObject(parsed)) {
        return new DevKeysFile(path, true, true, { ...parsed });
      }
    } catch {
      // Reported by unreadableProblem(), without the content.
    }
    return new DevKeysFile(path, true, false, {});
  }

  /** The problem to report when a value was needed from a file that is not a JSON object. */
  unreadableProblem(): string {
    return `${this.path} (development keys) is not a JSON object; delete it and restart config-manager to regenerate it`;
  }

  /** The stored value of `name` (trimmed), or undefined when it is missing or blank. */
  get(name: string): string | undefined {
    const value = Object.hasOwn(this.entries, name) ? this.entries[name] : undefined;
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  }

  /** The stored value of `name`, generating (and keeping, for save()) one on first use. */
  getOrGenerate(name: string, generate: () => string): string {
    const stored = this.get(name);
    if (stored !== undefined) {
      return stored;
    }
    const value = generate();
    this.entries[name] = value;
    this.generated.push(name);
    this.changed = true;
    return value;
  }

  /** Writes the file when something was generated; other entries are kept as they were. */
  save(): void {
    if (!this.changed || !this.readable) {
      return;
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(temp, JSON.stringify(this.entries, null, 2) + '\n', { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.path);
    this.changed = false;
  }
}
