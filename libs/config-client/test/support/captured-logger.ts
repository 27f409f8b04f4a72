import type { ConfigClientLogger } from '@app/config-client';

/** One recorded log line. */
export interface LogLine {
  readonly level: 'log' | 'warn' | 'error';
  readonly message: string;
}

/** A logger that keeps every line, so tests can assert what was (and never was) logged. */
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

  /** Every line as one text, for "never contains" assertions. */
  text(): string {
    return this.lines.map((line) => `${line.level}: ${line.message}`).join('\n');
  }
}
