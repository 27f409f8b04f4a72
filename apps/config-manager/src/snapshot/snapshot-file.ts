import { Inject, Injectable, Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDirectory, writePrivateFileAtomicallyAsync } from '../common/private-files';
import type { Settings } from '../settings/settings';
import { SETTINGS } from '../settings/settings.module';
import { type SnapshotBody, type SnapshotProblem, openSnapshot, sealSnapshot } from './snapshot';

/** Name of the snapshot file in DATA_DIR. */
export const SNAPSHOT_FILE = 'snapshot.json';

const PROBLEM_WORDS: Record<SnapshotProblem, string> = {
  malformed: 'it is not a snapshot file',
  format: 'it is of a format this manager does not read',
  'unknown-key':
    'its HMAC key comes from a master key neither CONFIG_MASTER_KEY nor CONFIG_MASTER_KEYS_PREVIOUS provides',
  hmac: 'its HMAC does not verify (the file was changed)',
};

/**
 * `DATA_DIR/snapshot.json`: every service's current published state, HMAC'd under a key derived
 * from the master key (docs/recovery.md, "Cold start from a snapshot"). The manager boots
 * read-only from it when the database is unreachable at start, and takes its versions as
 * authentic evidence of what the fleet was given when a restored store is behind. A file that
 * does not verify is ignored, with one log line saying why.
 */
@Injectable()
export class SnapshotFile {
  private readonly logger = new Logger(SnapshotFile.name);
  readonly path: string;
  private loaded: SnapshotBody | null | undefined;

  constructor(@Inject(SETTINGS) private readonly settings: Settings) {
    this.path = join(settings.dataDir, SNAPSHOT_FILE);
  }

  /**
   * The snapshot as the manager found it at start (read once: later writes do not change what
   * the start-up evidence was); undefined when there is none or it does not verify.
   */
  initial(): SnapshotBody | undefined {
    if (this.loaded === undefined) this.loaded = this.read() ?? null;
    return this.loaded ?? undefined;
  }

  /** Replaces the file atomically (0600, fsynced) with `body` under the current master key. */
  async write(body: SnapshotBody): Promise<void> {
    if (this.loaded === undefined) this.initial();
    ensurePrivateDirectory(this.settings.dataDir);
    await writePrivateFileAtomicallyAsync(this.path, sealSnapshot(body, this.settings.masterKey));
  }

  private read(): SnapshotBody | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.logger.error(`Cannot read ${this.path}: ${(error as Error).message}; it is ignored`);
      return undefined;
    }
    const reading = openSnapshot(text, [
      this.settings.masterKey,
      ...this.settings.previousMasterKeys,
    ]);
    if (!reading.ok) {
      this.logger.error(
        `Ignoring ${this.path}: ${PROBLEM_WORDS[reading.problem]}. It is rewritten after the next publish.`,
      );
      return undefined;
    }
    return reading.body;
  }
}
