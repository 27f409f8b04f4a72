import { compareCodeUnits, isPlainObject } from './plain-object';

/**
 * JSON text with object keys sorted recursively by UTF-16 code units (arrays keep their order),
 * no whitespace, strings and numbers as JSON.stringify writes them: the form `schemaHash` hashes
 * (docs/protocol.md). Built by hand, because a JavaScript object lists integer-like keys ("9",
 * "10") first in numeric order whatever order they were inserted in.
 */
export function canonicalJson(value: unknown): string {
  // JSON.stringify gives undefined for undefined, functions and symbols; the canonical form of "nothing" is null.
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => write(item) ?? 'null').join(',')}]`;
  }
  if (isPlainObject(value)) {
    const members: string[] = [];
    for (const key of Object.keys(value).sort(compareCodeUnits)) {
      const text = write(value[key]);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(',')}}`;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return write((value as { toJSON: () => unknown }).toJSON());
  }
  return JSON.stringify(value);
}
