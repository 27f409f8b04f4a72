import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { useAuditLog } from '../hooks/useAuditLog';
import { navigate } from '../router';

/** Who changed what and when (admin role); filter by service and text. */
export function AuditPage({ service }: { service: string }) {
  const audit = useAuditLog(service);
  if (!audit.allowed) return <p role="alert">The audit log needs the admin role.</p>;

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
          {audit.services.map((s) => (
            <option key={s.service} value={s.service}>
              {s.service}
            </option>
          ))}
        </select>
        <label htmlFor="audit-text">Actor, kind, reason or key</label>
        <input
          id="audit-text"
          type="search"
          value={audit.text}
          onChange={(event) => audit.setText(event.target.value)}
        />
      </div>
      <ErrorNotice error={audit.loadError} title="Could not load the audit log" />
      {!audit.loaded ? (
        audit.loadError ? null : (
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
              {audit.shown.map((entry) => (
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
          {audit.shown.length === 0 ? <p className="muted">No entries match.</p> : null}
          {audit.hasOlder ? (
            <button type="button" onClick={() => void audit.loadOlder()}>
              Older entries
            </button>
          ) : null}
          <ErrorNotice error={audit.olderError} />
        </div>
      )}
    </>
  );
}
