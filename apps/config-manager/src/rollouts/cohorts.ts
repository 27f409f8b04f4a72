import { createHash } from 'node:crypto';
import type { InstanceView, RolloutCohort } from '@app/contracts';

/**
 * An instance's place in a rollout's order: sha256(rolloutId + "/" + instanceId), so the order
 * is the same at every step and after a restart (sticky) and differs between rollouts.
 */
export function stickyKey(rolloutId: string, instanceId: string): string {
  return createHash('sha256').update(`${rolloutId}/${instanceId}`).digest('hex');
}

/** `instanceIds` in the rollout's sticky order. */
export function inStickyOrder(rolloutId: string, instanceIds: Iterable<string>): string[] {
  return [...new Set(instanceIds)]
    .map((id) => ({ id, key: stickyKey(rolloutId, id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((entry) => entry.id);
}

/** Instances a rollout may choose: those the view knows and that are not offline. */
export function eligible(fleet: readonly InstanceView[]): InstanceView[] {
  return fleet.filter((instance) => instance.status !== 'offline');
}

/** Whether an instance carries every label of a selector. */
export function matchesSelector(instance: InstanceView, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => instance.labels[key] === value);
}

/**
 * The instances one step's cohort picks among `candidates` (eligible ones), in sticky order:
 * the first n, the first ⌈p % of them⌉ (at least one), those matching the selector, or all.
 */
export function selectCohort(
  rolloutId: string,
  cohort: RolloutCohort,
  candidates: readonly InstanceView[],
): string[] {
  const ordered = inStickyOrder(
    rolloutId,
    candidates.map((c) => c.instanceId),
  );
  if ('instances' in cohort) return ordered.slice(0, cohort.instances);
  if ('percent' in cohort) {
    if (ordered.length === 0) return [];
    const count = Math.max(1, Math.ceil((cohort.percent / 100) * ordered.length - 1e-9));
    return ordered.slice(0, count);
  }
  if ('selector' in cohort) {
    const matching = new Set(
      candidates.filter((c) => matchesSelector(c, cohort.selector)).map((c) => c.instanceId),
    );
    return ordered.filter((id) => matching.has(id));
  }
  return ordered;
}
