import type { JsonValue } from './json.types';

/** A value as plain JSON (class instances and undefined become what JSON makes of them). */
export function toJson(value: unknown): JsonValue {
  // Defaults come from class initializers; a round trip turns them into plain JSON (or fails loudly).
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
