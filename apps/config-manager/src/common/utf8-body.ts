import { isUtf8 } from 'node:buffer';

/** Where a body stops being UTF-8: the byte offset and the JSON path of the value there. */
export interface Utf8Problem {
  readonly offset: number;
  /** Dotted path of the value (or, with `inKey`, the object whose key) holding the bad bytes. */
  readonly path: string;
  readonly inKey: boolean;
}

/**
 * Finds the first invalid UTF-8 sequence in a JSON body, or undefined when the body is UTF-8.
 * A decoder would silently turn it into U+FFFD, storing something the client never sent.
 */
export function findInvalidUtf8(body: Buffer): Utf8Problem | undefined {
  if (isUtf8(body)) return undefined;
  // The longest prefix a strict streaming decoder accepts (a cut multi-byte character is not an
  // error in stream mode): validity of prefixes is monotonic, so a binary search finds it.
  let good = 0;
  let bad = body.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (decodesAsPrefix(body.subarray(0, middle))) good = middle;
    else bad = middle;
  }
  const text = new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, good), {
    stream: true,
  });
  // The bad sequence starts where the decoded text ends (a lead byte may sit before `good`).
  return { offset: Buffer.byteLength(text), ...jsonPathAt(text) };
}

function decodesAsPrefix(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

type Frame =
  | { kind: 'array'; index: number }
  | { kind: 'object'; key: string | undefined; awaitingKey: boolean };

/**
 * The dotted path of the value being written at the end of `prefix`, the start of a JSON text.
 * Best effort for error messages: a prefix that is not JSON gives some path, never an exception.
 */
export function jsonPathAt(prefix: string): { path: string; inKey: boolean } {
  const frames: Frame[] = [];
  let i = 0;
  while (i < prefix.length) {
    const char = prefix[i];
    const top = frames[frames.length - 1];
    if (char === '"') {
      const end = stringEnd(prefix, i);
      if (end === undefined) {
        return { path: pathOf(frames), inKey: top?.kind === 'object' && top.awaitingKey };
      }
      if (top?.kind === 'object' && top.awaitingKey) {
        top.key = parseString(prefix.slice(i, end + 1));
        top.awaitingKey = false;
      }
      i = end + 1;
      continue;
    }
    if (char === '{') frames.push({ kind: 'object', key: undefined, awaitingKey: true });
    else if (char === '[') frames.push({ kind: 'array', index: 0 });
    else if (char === '}' || char === ']') frames.pop();
    else if (char === ',' && top?.kind === 'array') top.index++;
    else if (char === ',' && top?.kind === 'object') {
      top.key = undefined;
      top.awaitingKey = true;
    }
    i++;
  }
  const top = frames[frames.length - 1];
  return { path: pathOf(frames), inKey: top?.kind === 'object' && top.awaitingKey };
}

function stringEnd(text: string, start: number): number | undefined {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return undefined;
}

function parseString(literal: string): string {
  try {
    return String(JSON.parse(literal));
  } catch {
    return literal.slice(1, -1);
  }
}

function pathOf(frames: readonly Frame[]): string {
  const segments: string[] = [];
  for (const frame of frames) {
    if (frame.kind === 'array') segments.push(String(frame.index));
    else if (frame.key !== undefined) segments.push(frame.key);
  }
  return segments.join('.');
}
