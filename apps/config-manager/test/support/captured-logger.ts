import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line in memory, so tests can assert what was (not) logged. */
export class CapturedLogger implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.push('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.push('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.push('verbose', message, rest);
  }

  /** Everything logged, as one string to search. */
  text(): string {
    return this.lines.join('\n');
  }

  private push(level: string, message: unknown, rest: unknown[]): void {
    const parts = [message, ...rest].map((p) => (typeof p === 'string' ? p : JSON.stringify(p)));
    this.lines.push(`${level} ${parts.join(' ')}`);
  }
}
