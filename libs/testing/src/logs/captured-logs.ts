import type { ConfigClientLogger } from '@app/config-client';
import type { DestinationStream } from 'pino';

/** One parsed log line (pino JSON). */
export type LogEntry = Record<string, unknown> & {
  level: number;
  msg?: string;
  requestId?: string;
};

/**
 * A pino destination that keeps every JSON line in memory, so tests can assert what was (not)
 * logged: an application's output (Nest logs, HTTP request logs) and its start-up warnings.
 */
export class CapturedPinoLog implements DestinationStream {
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

/** One line a captured SDK logger received. */
export interface LogLine {
  readonly level: 'log' | 'warn' | 'error' | 'debug';
  readonly message: string;
}

/** A config-client logger that keeps every line, so tests can assert what was (and never was) logged. */
export class CapturedLogger implements ConfigClientLogger {
  readonly lines: LogLine[] = [];

  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }

  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }

  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }

  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }

  /** Every line as one text, for "never contains" assertions. */
  text(): string {
    return this.lines.map((line) => `${line.level}: ${line.message}`).join('\n');
  }
}
