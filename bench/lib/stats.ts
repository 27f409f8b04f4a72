/** The p-th percentile (0-100) of a list of numbers, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Median and p99 of samples, rounded for a report. */
export function summarize(
  values: readonly number[],
  digits = 3,
): { median: number; p99: number; n: number } {
  const round = (v: number) => Number(v.toFixed(digits));
  return {
    median: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    n: values.length,
  };
}

/** Runs `op` `rounds` times after a warm-up and returns each run's duration in milliseconds. */
export function timeEach(rounds: number, op: () => void, warmUp = 100): number[] {
  for (let i = 0; i < warmUp; i++) op();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = process.hrtime.bigint();
    op();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}
