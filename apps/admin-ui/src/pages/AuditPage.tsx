import { useState } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { AuditEntry, ServiceSummary } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { navigate } from '../router';
import { useLoad, useSession } from '../session';

const PAGE = 100;

/** Who changed what and when (admin role); filter by service and text. */
export function AuditPage({ service }: { service: string }) {
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
  if (!can('admin')) return <p role="alert">The audit log needs the admin role.</p>;

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

  return (
    <>
      <h1>Audit</h1>
      <div className="filters">
        <label htmlFor="audit-service">Service</label>
        <select
          id="audit-service"
          value={service}
          onChange={(event) =>
            navigate(['audit'], event.target.value ? { service: event.target.value } : {})
          }
        >
          <option value="">all services</option>
          {(services.data ?? []).map((s) => (
            <option key={s.service} value={s.service}>
              {s.service}
            </option>
          ))}
        </select>
        <label htmlFor="audit-text">Actor, kind, reason or key</label>
        <input
          id="audit-text"
          type="search"
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
      </div>
      <ErrorNotice error={first.error} title="Could not load the audit log" />
      {first.data === undefined ? (
        first.error ? null : (
          <Loading what="the audit log" />
        )
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Service</th>
                <th scope="col">What</th>
                <th scope="col">Versions</th>
                <th scope="col">Reason</th>
                <th scope="col">Keys</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatTime(entry.at)}</td>
                  <td>{entry.actor}</td>
                  <td>{entry.service}</td>
                  <td>{entry.kind}</td>
                  <td>
                    {entry.versionBefore ?? '—'} → {entry.versionAfter ?? '—'}
                  </td>
                  <td>{entry.reason ?? <span className="muted">—</span>}</td>
                  <td>
                    {entry.changes.map((change) => (
                      <code key={change.path} className="chip">
                        {change.path}
                      </code>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 ? <p className="muted">No entries match.</p> : null}
          {entries.length > 0 && entries.length % PAGE === 0 ? (
            <button type="button" onClick={() => void loadOlder()}>
              Older entries
            </button>
          ) : null}
          <ErrorNotice error={olderError} />
        </div>
      )}
    </>
  );
}
