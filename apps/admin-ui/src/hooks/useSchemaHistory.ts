// A service's schema versions (newest first) and the A/B pair it compares, with their diff.
import { useEffect, useState } from 'react';
import { endpoints } from '../api/endpoints';
import type { SchemaVersionDetail, SchemaVersionSummary } from '../api/types';
import { diffSchemas } from '../schema/schema-diff';
import { useLoad, useSession } from '../session';

/** `current` is the service's schema version: when it moves, the list is reloaded. */
export function useSchemaHistory(service: string, current: number) {
  const { api } = useSession();
  const list = useLoad(
    (signal) => api.get<SchemaVersionSummary[]>(endpoints.schemaVersions(service), { signal }),
    [api, service, current],
  );
  const [from, setFrom] = useState<number>();
  const [to, setTo] = useState<number>();

  // By default: what the latest schema version changed.
  const newest = list.data?.[0]?.schemaVersion;
  useEffect(() => {
    if (newest === undefined) return;
    setTo(newest);
    setFrom(list.data?.[1]?.schemaVersion ?? newest);
  }, [newest]);

  const pair = useLoad(
    async (signal) => {
      if (from === undefined || to === undefined) return undefined;
      const get = (n: number) =>
        api.get<SchemaVersionDetail>(endpoints.schemaVersion(service, n), { signal });
      const [a, b] = await Promise.all([get(from), get(to)]);
      return { from: a, to: b, changes: diffSchemas(a.schema, b.schema) };
    },
    [api, service, from, to],
  );

  return {
    /** Whether the list has arrived (until then, `loadError` says why not, if it failed). */
    loaded: list.data !== undefined,
    loadError: list.error,
    versions: list.data ?? [],
    from,
    to,
    setFrom,
    setTo,
    /** Both versions compared and their changes (undefined while loading). */
    compared:
      pair.data?.from.schemaVersion === from && pair.data?.to.schemaVersion === to
        ? pair.data
        : undefined,
    compareError: pair.error,
  };
}
