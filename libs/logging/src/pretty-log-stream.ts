import type { DestinationStream } from 'pino';

/** Level words as LOG_LEVEL spells them, by pino level number. */
const LEVELS: Record<number, string> = {
  10: 'VERBOSE',
  20: 'DEBUG',
  30: 'LOG',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every line has, or that the line's layout already shows. */
const LAYOUT_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'app', 'env', 'msg', 'context']);

interface RequestLine {
  req?: { method?: unknown; url?: unknown };
  res?: { statusCode?: unknown };
  responseTime?: unknown;
}

/**
 * Turns one pino JSON line (already redacted: pino redacts before it serialises, so both
 * formats hide the same values) into a line a person reads:
 * `14:02:07.123 LOG     [ConfigsService] Created dedup-worker version 1`, an HTTP request as
 * `LOG     [http] GET /api/services 200 3.1 ms (request 4f…)`, other fields as `key=value`, a
 * stack on the following lines. Anything that is not a JSON object passes through unchanged.
 */
export function formatPrettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? clock(new Date(entry.time)) : '--:--:--.---';
  const level = (LEVELS[Number(entry.level)] ?? String(entry.level)).padEnd(7);
  const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => !LAYOUT_FIELDS.has(key)));
  const request = requestSummary(rest);
  const context = request === undefined ? entry.context : (entry.context ?? 'http');
  let message = request ?? (typeof entry.msg === 'string' ? entry.msg : '');
  if (request !== undefined && entry.msg === 'request aborted') message += ' (aborted)';
  const { requestId, stack, err, ...fields } = rest;
  const trailer: string[] = [];
  for (const [key, value] of Object.entries(fields)) trailer.push(`${key}=${text(value)}`);
  if (typeof requestId === 'string') trailer.push(`(request ${requestId})`);
  const stacks = [stack, errorStack(err)].filter((s): s is string => typeof s === 'string');
  const head = [time, level, context === undefined ? undefined : `[${text(context)}]`, message]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  return (
    [trailer.length > 0 ? `${head} ${trailer.join(' ')}` : head, ...stacks.map(indent)].join('\n') +
    '\n'
  );
}

/** A pino destination that writes formatPrettyLine() of each line to `destination`. */
export function prettyLogStream(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(formatPrettyLine(line.trimEnd())) };
}

/** `GET /api/x 200 3.1 ms` for the manager's request lines (removing the fields it shows). */
function requestSummary(fields: Record<string, unknown>): string | undefined {
  const { req, res, responseTime } = fields as RequestLine;
  if (typeof req !== 'object' || req === null) return undefined;
  delete fields.req;
  delete fields.res;
  delete fields.responseTime;
  delete fields.aborted;
  const ms = typeof responseTime === 'number' ? ` ${responseTime.toFixed(1)} ms` : '';
  return `${text(req.method)} ${text(req.url)} ${text(res?.statusCode)}${ms}`;
}

function errorStack(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { stack, message } = err as { stack?: unknown; message?: unknown };
  return typeof stack === 'string' ? stack : typeof message === 'string' ? message : undefined;
}

function text(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"]*$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function clock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.` +
    String(date.getMilliseconds()).padStart(3, '0')
  );
}
