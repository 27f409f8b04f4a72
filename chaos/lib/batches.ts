import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from '@app/testing';

/** The fields of a run report (OUTPUT_DIR/<runId>.json) the harness reads. */
export interface RunReportSummary {
  runId: string;
  configVersion: number;
  configSource: string;
  inputs: Array<{ file: string }>;
}

const TITLES = ['Jazz Night', 'Poetry Slam', 'Techno Rave', 'Opera Gala', 'Film Club', 'Book Fair'];

/**
 * Writes a batch of `events` events into `inbox` atomically (a hidden temp file renamed into
 * place, so the worker never sees half of it) and returns its file name. The events crowd into
 * one evening and one neighbourhood with similar titles, so a run compares many pairs and a big
 * batch keeps a worker busy for a while.
 */
export async function dropBatch(inbox: string, events: number): Promise<string> {
  const name = `chaos-${randomBytes(4).toString('hex')}.json`;
  const batch = {
    source: 'chaos',
    source_type: 'ticketing',
    events: Array.from({ length: events }, (_, i) => ({
      id: `c-${i}`,
      title: `${TITLES[i % TITLES.length]} ${Math.floor(i / TITLES.length) % 50}`,
      short_description: 'An evening out',
      description: `Event number ${i} of the chaos batch, somewhere in Kreuzberg.`,
      highlights: [],
      categories: ['Music'],
      start: `2026-12-05T${String(18 + (i % 4)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+01:00`,
      location: {
        name: `Venue ${i % 20}`,
        city: 'Berlin',
        lat: 52.49 + (i % 10) / 1000,
        lon: 13.42 + (i % 7) / 1000,
        geo_confidence: 0.95,
      },
    })),
  };
  const temp = join(inbox, `.${name}.tmp`);
  await writeFile(temp, JSON.stringify(batch));
  await rename(temp, join(inbox, name));
  return name;
}

/** Waits for the run report that lists `file` among its inputs and returns it. */
export async function reportFor(
  outbox: string,
  file: string,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<RunReportSummary> {
  const read = new Set<string>();
  return until(
    `a run report naming ${file}`,
    async () => {
      for (const name of await readdir(outbox)) {
        // Reports are renamed into place whole; each is read once.
        if (!name.endsWith('.json') || read.has(name)) continue;
        read.add(name);
        const report = JSON.parse(await readFile(join(outbox, name), 'utf8')) as RunReportSummary;
        if (report.inputs.some((input) => input.file === file)) return report;
      }
      return undefined;
    },
    { ...options, intervalMs: 50 },
  );
}
