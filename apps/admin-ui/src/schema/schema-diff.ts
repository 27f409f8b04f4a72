// The differences between two schema versions as the history shows them: one row per changed
// leaf of the documents (the same paths as the audit's `schema.*` changes), for DiffTable.
import type { ChangeEntry, JsonSchema } from '../api/types';
import { canonicalJson, isJsonObject } from './json-text';

/**
 * The leaves that differ between two schema documents, sorted by path; arrays, null and empty
 * objects are leaves, and a leaf only one side has is undefined (shown as —) on the other.
 */
export function diffSchemas(from: JsonSchema, to: JsonSchema): ChangeEntry[] {
  const before = leavesOf(from);
  const after = leavesOf(to);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return paths.flatMap((path) => {
    const old = before.get(path);
    const now = after.get(path);
    if (before.has(path) && after.has(path) && canonicalJson(old) === canonicalJson(now)) return [];
    return [{ path, from: old, to: now }];
  });
}

/** `sha256:3f9a…` as its first 12 hex digits, enough to tell versions apart at a glance. */
export function shortHash(hash: string): string {
  return hash.replace(/^sha256:/, '').slice(0, 12);
}

function leavesOf(document: unknown): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  const visit = (value: Record<string, unknown>, path: string) => {
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (isJsonObject(child) && Object.keys(child).length > 0) visit(child, childPath);
      else if (child !== undefined) leaves.set(childPath, child);
    }
  };
  if (isJsonObject(document)) visit(document, '');
  return leaves;
}
