import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { chmod, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Mode of the files that hold the manager's state: keys, tokens, the SQLite store. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of the directories the manager creates for them. */
export const PRIVATE_DIRECTORY_MODE = 0o700;

/** Creates `dir` and its missing parents with mode 0700; an existing directory is left as it is. */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
}

/** Creates `path` empty with mode 0600 unless it exists; says whether it created it. */
export function createPrivateFile(path: string): boolean {
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Sets an existing file that its group or others may use to 0600, returning the mode it had;
 * undefined when it is missing or already private.
 */
export function tightenFileMode(path: string): number | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(path, PRIVATE_FILE_MODE);
  return mode;
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old file or the new one, never a
 * torn one: written to a 0600 temporary file beside it, fsynced, renamed over it, and the
 * directory fsynced so the rename itself survives a power cut. On the thread pool: two fsyncs
 * on a busy disk took 15 ms each, and held the event loop (the write path's p99) when done
 * synchronously.
 */
export async function writePrivateFileAtomicallyAsync(
  path: string,
  data: Buffer | string,
): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const file = await open(temp, 'w', PRIVATE_FILE_MODE);
  try {
    await file.writeFile(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await file.sync();
  } finally {
    await file.close();
  }
  await chmod(temp, PRIVATE_FILE_MODE);
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
