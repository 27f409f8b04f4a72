import { isPlainObject, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, MAX_LABELS } from '@app/contracts';

/** The outcome of reading INSTANCE_LABELS: the labels, or every problem (each naming the variable). */
export type InstanceLabelsReading =
  | { readonly ok: true; readonly labels: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * What is wrong with a set of instance labels (the `labels` option, INSTANCE_LABELS): keys
 * LABEL_KEY_PATTERN, values LABEL_VALUE_PATTERN, at most MAX_LABELS. Empty when nothing is.
 */
export function labelProblems(labels: unknown): string[] {
  if (!isPlainObject(labels)) {
    return ['must be an object of label keys to string values'];
  }
  const problems: string[] = [];
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) {
    problems.push(`has ${keys.length} labels, at most ${MAX_LABELS}`);
  }
  for (const key of keys) {
    const value = labels[key];
    if (!LABEL_KEY_PATTERN.test(key)) {
      problems.push(`key ${JSON.stringify(key)} must match ${String(LABEL_KEY_PATTERN)}`);
    } else if (typeof value !== 'string' || !LABEL_VALUE_PATTERN.test(value)) {
      problems.push(
        `value of ${key} must be a string matching ${String(LABEL_VALUE_PATTERN)} (got ${JSON.stringify(value)})`,
      );
    }
  }
  return problems;
}

/**
 * INSTANCE_LABELS text, `key=value,key=value` (blank items skipped, spaces around items, keys
 * and values trimmed), as labels; each problem names `name` and the item.
 */
export function parseInstanceLabels(text: string, name = 'INSTANCE_LABELS'): InstanceLabelsReading {
  // A Map, not an object: a key such as __proto__ must reach the key check, not the prototype.
  const entries = new Map<string, string>();
  const problems: string[] = [];
  const positionByKey = new Map<string, number>();
  text.split(',').forEach((raw, index) => {
    const item = raw.trim();
    if (item === '') return;
    // Positions count every comma-separated item, blanks included, so they match the raw text.
    const where = `${name} item ${index + 1}`;
    const separator = item.indexOf('=');
    if (separator < 0) {
      problems.push(`${where} must be key=value (got ${JSON.stringify(item)})`);
      return;
    }
    const key = item.slice(0, separator).trim();
    const first = positionByKey.get(key);
    if (first !== undefined) {
      problems.push(`${where} repeats label ${key} (first at item ${first})`);
      return;
    }
    positionByKey.set(key, index + 1);
    entries.set(key, item.slice(separator + 1).trim());
  });
  const labels = Object.fromEntries(entries);
  problems.push(...labelProblems(labels).map((problem) => `${name} ${problem}`));
  return problems.length === 0 ? { ok: true, labels } : { ok: false, problems };
}
