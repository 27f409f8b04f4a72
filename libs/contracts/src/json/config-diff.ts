import { canonicalJson } from './canonical-json';
import { flattenLeaves } from './flatten';
import { compareCodeUnits } from './plain-object';

/** One changed leaf between two configurations; an added or removed leaf has `null` on its missing side. */
export interface ConfigChange {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** Lists the leaves that differ between two configurations, sorted by path. */
export function diffConfigs(
  from: Readonly<Record<string, unknown>>,
  to: Readonly<Record<string, unknown>>,
): ConfigChange[] {
  const before = new Map(flattenLeaves(from).map((leaf) => [leaf.path, leaf.value]));
  const after = new Map(flattenLeaves(to).map((leaf) => [leaf.path, leaf.value]));
  const paths = new Set([...before.keys(), ...after.keys()]);
  const changes: ConfigChange[] = [];
  for (const path of paths) {
    const oldValue = before.has(path) ? before.get(path) : null;
    const newValue = after.has(path) ? after.get(path) : null;
    // Leaves can be arrays or {}, so compare by canonical text rather than identity.
    if (
      !before.has(path) ||
      !after.has(path) ||
      canonicalJson(oldValue) !== canonicalJson(newValue)
    ) {
      changes.push({ path, from: oldValue, to: newValue });
    }
  }
  return changes.sort((a, b) => compareCodeUnits(a.path, b.path));
}
