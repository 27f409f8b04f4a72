import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** One measured figure. */
export interface Figure {
  name: string;
  value: number | string;
  unit?: string;
  target?: string;
  /** With SuiteResult.columns: one cell per column (instead of `value` and `unit`). */
  cells?: Array<number | string>;
}

/** What one benchmark suite measured. */
export interface SuiteResult {
  suite: string;
  issue: string;
  figures: Figure[];
  notes?: string[];
  /** Value columns of a side-by-side table (default: one `value` column). */
  columns?: string[];
}

/** Prints results as a Markdown table and writes bench/results/latest.{md,json}. */
export function writeReport(results: SuiteResult[], loadBefore: readonly number[]): void {
  const machine = {
    node: process.version,
    os: `${platform()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    // Figures are load-sensitive on a shared machine: the 1-minute load before the run says how quiet it was.
    loadAverageBefore: loadBefore.map((value) => Number(value.toFixed(2))),
    at: new Date().toISOString(),
  };
  const lines = [
    '# Benchmark report',
    '',
    `Node ${machine.node} on ${machine.os}, ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB; ` +
      `load average before the run ${machine.loadAverageBefore.join(' / ')} (1/5/15 min); ${machine.at}`,
    '',
    'Reproduce with `npm run bench` (one suite: `npm run bench -- <suite>`); medians and p99s are per operation.',
    '',
  ];
  for (const result of results) {
    lines.push(
      `## ${result.suite} (${result.issue})`,
      '',
      `| figure | ${(result.columns ?? ['value']).join(' | ')} | target |`,
      `|---|${(result.columns ?? ['value']).map(() => '---|').join('')}---|`,
    );
    for (const f of result.figures) {
      const cells = result.columns
        ? (f.cells ?? []).join(' | ')
        : `${f.value}${f.unit ? ` ${f.unit}` : ''}`;
      lines.push(`| ${f.name} | ${cells} | ${f.target ?? ''} |`);
    }
    for (const note of result.notes ?? []) lines.push('', `- ${note}`);
    lines.push('');
  }
  const markdown = lines.join('\n');
  console.log(markdown);
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), markdown);
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ machine, results }, null, 2));
}
