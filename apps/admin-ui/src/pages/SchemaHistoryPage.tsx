import type { ServiceSummary } from '../api/types';
import { DiffTable } from '../components/DiffTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { useSchemaHistory } from '../hooks/useSchemaHistory';
import { shortHash } from '../schema/schema-diff';

/** A service's schema versions newest first; any two compared key by key. */
export function SchemaHistoryPage(props: { service: string; summary: ServiceSummary }) {
  const history = useSchemaHistory(props.service, props.summary.schemaVersion);
  const { from, to, compared } = history;

  if (!history.loaded) {
    return history.loadError ? (
      <ErrorNotice error={history.loadError} title="Could not load the schema history" />
    ) : (
      <Loading what="the schema history" />
    );
  }
  return (
    <>
      <h2>Schema versions</h2>
      {props.summary.origin === 'code' ? (
        <p className="muted">
          {props.service} is registered by the manager&apos;s code: its schema changes with a
          release of the manager.
        </p>
      ) : null}
      <div className="history">
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">
              Schema versions, newest first; pick two to compare
            </caption>
            <thead>
              <tr>
                <th scope="col">Schema</th>
                <th scope="col">
                  <abbr title="compare from">A</abbr>
                </th>
                <th scope="col">
                  <abbr title="compare to">B</abbr>
                </th>
                <th scope="col">When / who</th>
                <th scope="col">Reason</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {history.versions.map((version) => (
                <tr
                  key={version.schemaVersion}
                  data-testid={`schema-version-${version.schemaVersion}`}
                >
                  <th scope="row">
                    v{version.schemaVersion}
                    {version.schemaVersion === props.summary.schemaVersion ? (
                      <span className="badge badge-set">current</span>
                    ) : null}
                  </th>
                  <td>
                    <input
                      type="radio"
                      name="schema-from"
                      aria-label={`compare from schema version ${version.schemaVersion}`}
                      checked={from === version.schemaVersion}
                      onChange={() => history.setFrom(version.schemaVersion)}
                    />
                  </td>
                  <td>
                    <input
                      type="radio"
                      name="schema-to"
                      aria-label={`compare to schema version ${version.schemaVersion}`}
                      checked={to === version.schemaVersion}
                      onChange={() => history.setTo(version.schemaVersion)}
                    />
                  </td>
                  <td>
                    {formatTime(version.createdAt)}
                    <div className="muted small">{version.createdBy}</div>
                  </td>
                  <td>{version.reason ?? <span className="muted">—</span>}</td>
                  <td>
                    <code className="hash" title={version.schemaHash}>
                      {shortHash(version.schemaHash)}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <section aria-labelledby="schema-diff-title" className="diff-pane">
          <h2 id="schema-diff-title">
            Schema differences v{from} → v{to}
          </h2>
          <ErrorNotice error={history.compareError} />
          {compared ? (
            <>
              <DiffTable
                entries={compared.changes}
                fromLabel={`schema v${from}`}
                toLabel={`schema v${to}`}
              />
              <details>
                <summary>Schema version {to} as JSON</summary>
                <pre className="code-block">{JSON.stringify(compared.to.schema, null, 2)}</pre>
              </details>
            </>
          ) : history.compareError ? null : (
            <Loading what="the differences" />
          )}
        </section>
      </div>
    </>
  );
}
