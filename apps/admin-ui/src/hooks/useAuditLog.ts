// The audit log: its first page for a service (or all), older pages on demand, and the text
// filter over what was loaded.
import { useState } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { AuditEntry, ServiceSummary } from '../api/types';
import { useLoad, useSession } from '../session';

/** Entries per request. */
const PAGE = 100;

/** `service` empty: every service. */
export function useAuditLog(service: string) {
  const { api, can } = useSession();
  const [text, setText] = useState('');
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [olderError, setOlderError] = useState<ApiError>();
  const services = useLoad(
    (signal) => api.get<ServiceSummary[]>(endpoints.services(), { signal }),
    [api],
  );
  const query = (before?: number) => endpoints.audit({ limit: PAGE, service, before });
  const first = useLoad(
    (signal) => {
      setOlder([]);
      return api.get<AuditEntry[]>(query(), { signal });
    },
    [api, service],
  );

  const entries = [...(first.data ?? []), ...older];
  const needle = text.trim().toLowerCase();
  const shown = needle
    ? entries.filter((entry) =>
        [
          entry.actor,
          entry.kind,
          entry.reason ?? '',
          ...entry.changes.map((change) => change.path),
        ].some((field) => field.toLowerCase().includes(needle)),
      )
    : entries;

  const loadOlder = async () => {
    try {
      const page = await api.get<AuditEntry[]>(query(entries[entries.length - 1].id));
      setOlder((current) => [...current, ...page]);
    } catch (caught) {
      setOlderError(caught instanceof ApiError ? caught : undefined);
    }
  };

  return {
    /** The audit log needs the admin role. */
    allowed: can('admin'),
    /** The services to filter by (empty until loaded). */
    services: services.data ?? [],
    text,
    setText,
    /** Whether the first page has arrived (until then, `loadError` says why not, if it failed). */
    loaded: first.data !== undefined,
    loadError: first.error,
    /** The loaded entries that match the text. */
    shown,
    /** A full last page: there may be older entries. */
    hasOlder: entries.length > 0 && entries.length % PAGE === 0,
    loadOlder,
    olderError,
  };
}
