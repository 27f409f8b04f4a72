import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** One measured figure. */
export interface Figure {
  name: string;
  value: number | string;
  unit?: string;
  target?: string;
}

/** What one benchmark suite measured. */
export interface SuiteResult {
  suite: string;
  issue: string;
  figures: Figure[];
  notes?: string[];
}

/** Prints results as a Markdown table and writes bench/results/latest.{md,json}. */
export function writeReport(results: SuiteResult[]): void {
  const machine = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    at: new Date().toISOString(),
  };
  const lines = [
    '# Benchmark report',
    '',
    `Node ${machine.node}, ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.at}`,
    '',
  ];
  for (const result of results) {
    lines.push(
      `## ${result.suite} (${result.issue})`,
      '',
      '| figure | value | target |',
      '|---|---|---|',
    );
    for (const f of result.figures) {
      lines.push(`| ${f.name} | ${f.value}${f.unit ? ` ${f.unit}` : ''} | ${f.target ?? ''} |`);
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
