// What the rollout form shows for review: the staged version (who, why, whether it is staged)
// and what it changes against the current version.
import { endpoints } from '../api/endpoints';
import type { ChangeEntry, VersionSummary } from '../api/types';
import { useLoad, useSession } from '../session';

export function useRolloutReview(service: string, version: number, current: number) {
  const { api } = useSession();
  // The one version `version`: the page of one entry older than the next number.
  const summary = useLoad(
    async (signal) =>
      (
        await api.get<VersionSummary[]>(
          endpoints.versions(service, { limit: 1, before: version + 1 }),
          {
            signal,
          },
        )
      ).find((entry) => entry.version === version) ?? null,
    [api, service, version],
  );
  const diff = useLoad(
    (signal) =>
      api.get<ChangeEntry[]>(endpoints.diff(service, { from: current, to: version }), { signal }),
    [api, service, current, version],
  );
  return {
    /** null once loaded when there is no such version. */
    summary: summary.data,
    summaryError: summary.error,
    diff: diff.data,
    diffError: diff.error,
  };
}
