import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

/** The batch files waiting in a directory, in name order (hidden and temporary files skipped). */
export async function pendingFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && extname(e.name) === '.json' && !e.name.startsWith('.'))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Moves a file into `dir`, never overwriting: a name already taken gets a numeric suffix. */
export async function moveInto(file: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = basename(file);
  const ext = extname(name);
  for (let attempt = 0; ; attempt++) {
    const target = join(
      dir,
      attempt === 0 ? name : `${name.slice(0, -ext.length || undefined)}.${attempt}${ext}`,
    );
    const taken = await stat(target).then(
      () => true,
      () => false,
    );
    if (!taken) {
      await rename(file, target);
      return target;
    }
  }
}

/** Moves a file that could not be used into `failed/` with a `<name>.reason.txt` beside it. */
export async function moveToFailed(
  file: string,
  failedDir: string,
  reason: string,
): Promise<string> {
  const target = await moveInto(file, failedDir);
  await writeFile(`${target}.reason.txt`, `${reason}\n`, 'utf8');
  return target;
}

/**
 * Claims a file for this instance by renaming it into its own claim directory. Renames are
 * atomic, so when several replicas share an inbox exactly one of them gets each file; the others
 * see it gone and skip it.
 */
export async function claim(file: string, claimDir: string): Promise<string | undefined> {
  await mkdir(claimDir, { recursive: true });
  const target = join(claimDir, basename(file));
  try {
    await rename(file, target);
    return target;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Puts back into the inbox the files a previous run of this instance claimed but never finished. */
export async function releaseClaims(claimDir: string, inputDir: string): Promise<string[]> {
  const left = await pendingFiles(claimDir).catch(() => []);
  const released: string[] = [];
  for (const file of left) released.push(await moveInto(file, inputDir));
  return released;
}
