import { FORBIDDEN_KEYS, joinPath } from '../json/plain-object';
import type { ConfigIssue } from './config-issue';

/** Deepest nesting accepted in a configuration document (the document itself is level 1). */
export const MAX_CONFIG_DEPTH = 32;

// Enough to explain a bad document; a hostile one cannot make the answer huge.
const MAX_SAFETY_ISSUES = 20;

/** Finds keys named `__proto__`, `constructor` or `prototype` and nesting deeper than 32 levels; run it on untrusted JSON before merging. */
export function checkJsonSafety(value: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(value, '', 1, issues);
  return issues;
}

function visit(value: unknown, path: string, depth: number, issues: ConfigIssue[]): void {
  if (typeof value !== 'object' || value === null || issues.length >= MAX_SAFETY_ISSUES) {
    return;
  }
  if (depth > MAX_CONFIG_DEPTH) {
    issues.push({
      path,
      message: `${path} is nested deeper than ${MAX_CONFIG_DEPTH} levels`,
    });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item: unknown, index) =>
      visit(item, joinPath(path, String(index)), depth + 1, issues),
    );
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const keyPath = joinPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) {
      issues.push({ path: keyPath, message: `${keyPath} is a forbidden key` });
    } else {
      visit(record[key], keyPath, depth + 1, issues);
    }
    if (issues.length >= MAX_SAFETY_ISSUES) {
      return;
    }
  }
}
