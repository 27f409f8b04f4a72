// The history's version list (newest first, paged) and the A/B pair it compares, with their diff.
import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { ChangeEntry, VersionSummary } from '../api/types';
import { useLoad, useSession } from '../session';

/** Versions per request. */
const PAGE = 50;

/** `current` is the service's current version: when it moves, the first page is reloaded. */
export function useVersionCompare(service: string, current: number) {
  const { api } = useSession();
  const [older, setOlder] = useState<VersionSummary[]>([]);
  const [olderError, setOlderError] = useState<ApiError>();
  const first = useLoad(
    (signal) => api.get<VersionSummary[]>(endpoints.versions(service, { limit: PAGE }), { signal }),
    [api, service, current],
  );
  const versions = [
    ...(first.data ?? []),
    ...older.filter((v) => !(first.data ?? []).some((f) => f.version === v.version)),
  ];
  const [from, setFrom] = useState<number>();
  const [to, setTo] = useState<number>();

  // By default: what the latest version changed.
  const newest = first.data?.[0]?.version;
  useEffect(() => {
    if (newest === undefined) return;
    setTo(newest);
    setFrom(first.data?.[1]?.version ?? newest);
  }, [newest]);

  const diff = useLoad(
    (signal) =>
      from === undefined || to === undefined
        ? Promise.resolve<ChangeEntry[]>([])
        : api.get<ChangeEntry[]>(endpoints.diff(service, { from, to }), { signal }),
    [api, service, from, to],
  );

  const loadOlder = async () => {
    const last = versions[versions.length - 1];
    try {
      const page = await api.get<VersionSummary[]>(
        endpoints.versions(service, { limit: PAGE, before: last.version }),
      );
      setOlder((current) => [...current, ...page]);
    } catch (caught) {
      setOlderError(caught instanceof ApiError ? caught : undefined);
    }
  };

  return {
    /** Whether the first page has arrived (until then, `loadError` says why not, if it failed). */
    loaded: first.data !== undefined,
    loadError: first.error,
    versions,
    /** A full last page that does not reach version 1: there may be older versions. */
    hasOlder: versions.length % PAGE === 0 && versions[versions.length - 1]?.version > 1,
    loadOlder,
    olderError,
    from,
    to,
    setFrom,
    setTo,
    /** The changes from A to B (undefined while loading). */
    diff: diff.data,
    diffError: diff.error,
  };
}
