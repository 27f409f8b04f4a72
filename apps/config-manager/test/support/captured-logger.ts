import type { DestinationStream } from 'pino';

/** One parsed log line (pino JSON). */
export type LogEntry = Record<string, unknown> & {
  level: number;
  msg?: string;
  requestId?: string;
};

/**
 * A log destination that keeps every line in memory, so tests can assert what was (not)
 * logged: the application's pino output (Nest logs, HTTP request logs) and start-up warnings.
 */
export class CapturedLogger implements DestinationStream {
  readonly lines: string[] = [];

  /** pino writes one JSON line per call. */
  write(line: string): void {
    this.lines.push(line.endsWith('\n') ? line.slice(0, -1) : line);
  }

  /** For warnings that come before the app exists (loadSettings). */
  warn(message: string): void {
    this.lines.push(JSON.stringify({ level: 40, msg: message }));
  }

  /** Everything logged, as one string to search. */
  text(): string {
    return this.lines.join('\n');
  }

  /** Every line, parsed. */
  entries(): LogEntry[] {
    return this.lines.map((l) => JSON.parse(l) as LogEntry);
  }
}
