import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../scenarios/scenario';
import type { Options } from './cli';
import { ROOT } from './paths';
import { median } from './stats';

/** Where the harness writes its last report (git-ignored). */
export const RESULTS_DIR = join(ROOT, 'chaos', 'results');

/** One failed run: why, and the last output of every process of its stack. */
export interface RunFailure {
  run: number;
  message: string;
  tails: string;
}

/** The outcome of all runs of one scenario. */
export interface ScenarioResult {
  scenario: Scenario;
  runs: number;
  passed: number;
  figures: number[];
  failures: RunFailure[];
}

/** The summary table: scenario, runs, passed, and the median of the scenario's figure. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    `${r.scenario.id} ${r.scenario.title}`,
    String(r.runs),
    String(r.passed),
    formatFigure(r),
  ]);
  const header = ['scenario', 'runs', 'passed', 'figure (median of passed runs)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Writes latest.md (table and failures with process output) and latest.json under chaos/results. */
export function writeResults(
  results: readonly ScenarioResult[],
  options: Options,
  wallMs: number,
): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const failures = results.flatMap((r) =>
    r.failures.map(
      (f) =>
        `## scenario ${r.scenario.id}, run ${f.run}\n\n${f.message}\n\n\`\`\`\n${f.tails}\n\`\`\``,
    ),
  );
  const markdown = [
    `# Chaos run ${new Date().toISOString()}`,
    '',
    `Options: ${JSON.stringify(options)}; wall time ${(wallMs / 1000).toFixed(1)} s.`,
    '',
    '```',
    formatTable(results),
    '```',
    '',
    ...failures,
  ].join('\n');
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${markdown}\n`);
  const json = {
    options,
    wallMs,
    results: results.map((r) => ({
      id: r.scenario.id,
      title: r.scenario.title,
      runs: r.runs,
      passed: r.passed,
      figure: { ...r.scenario.figure, median: median(r.figures), values: r.figures },
      failures: r.failures.map(({ run, message }) => ({ run, message })),
    })),
  };
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  return join(RESULTS_DIR, 'latest.md');
}

function formatFigure(result: ScenarioResult): string {
  if (result.figures.length === 0) return '-';
  const { label, unit } = result.scenario.figure;
  const value = median(result.figures);
  const shown = unit === 'ms' ? Math.round(value) : value.toFixed(unit === 'req/s' ? 0 : 1);
  return `${shown} ${unit}  ${label}`;
}
