import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
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
 * directory fsynced so the rename itself survives a power cut.
 */
export function writePrivateFileAtomically(path: string, data: Buffer | string): void {
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(temp, PRIVATE_FILE_MODE);
  renameSync(temp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
