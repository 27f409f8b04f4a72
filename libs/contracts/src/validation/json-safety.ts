import { FORBIDDEN_KEYS, joinPath } from '../json/plain-object';
import type { ConfigIssue } from './config-issue';

/** Deepest nesting accepted in a configuration document (the document itself is level 1). */
export const MAX_CONFIG_DEPTH = 32;

// Enough to explain a bad document; a hostile one cannot make the answer huge.
const MAX_SAFETY_ISSUES = 20;

// With the `u` flag a well-formed surrogate pair is one astral code point; only a lone half matches.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Finds keys named `__proto__`, `constructor` or `prototype`, nesting deeper than 32 levels, and
 * keys or strings that are not well-formed Unicode (a lone surrogate such as `"\ud800"`, which
 * JSON text can carry but UTF-8 cannot encode); run it on untrusted JSON before merging.
 */
export function checkJsonSafety(value: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(value, '', 1, issues);
  return issues;
}

/** True when the string holds a lone UTF-16 surrogate (it is not well-formed Unicode). */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

function visit(value: unknown, path: string, depth: number, issues: ConfigIssue[]): void {
  if (issues.length >= MAX_SAFETY_ISSUES) {
    return;
  }
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) issues.push(illFormed(path));
    return;
  }
  if (typeof value !== 'object' || value === null) {
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
    if (hasLoneSurrogate(key)) {
      // The key goes into the path escaped: the answer itself must be well-formed.
      issues.push(illFormed(joinPath(path, escapeSurrogates(key))));
    } else {
      const keyPath = joinPath(path, key);
      if (FORBIDDEN_KEYS.has(key)) {
        issues.push({ path: keyPath, message: `${keyPath} is a forbidden key` });
      } else {
        visit(record[key], keyPath, depth + 1, issues);
      }
    }
    if (issues.length >= MAX_SAFETY_ISSUES) {
      return;
    }
  }
}

function illFormed(path: string): ConfigIssue {
  return {
    path,
    message: `${path === '' ? 'the document' : path} is not well-formed Unicode (it holds a lone surrogate, which UTF-8 cannot encode)`,
  };
}

function escapeSurrogates(text: string): string {
  return text.replace(
    /\p{Cs}/gu,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
