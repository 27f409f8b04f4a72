import { useEffect, useState } from 'react';
import { reasonHeaders, reasonProblem } from '../api/change-reason';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { DiffEntry, VersionSummary } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DiffTable } from '../components/DiffTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { useLoad, useSession } from '../session';

const PAGE = 50;

/** Versions newest first; any two side by side; rollback with confirmation. */
export function HistoryPage(props: { service: string; current: number; onRolledBack: () => void }) {
  const { api, can } = useSession();
  const [older, setOlder] = useState<VersionSummary[]>([]);
  const [olderError, setOlderError] = useState<ApiError>();
  const first = useLoad(
    (signal) =>
      api.get<VersionSummary[]>(endpoints.versions(props.service, { limit: PAGE }), { signal }),
    [api, props.service, props.current],
  );
  const versions = [
    ...(first.data ?? []),
    ...older.filter((v) => !(first.data ?? []).some((f) => f.version === v.version)),
  ];
  const [from, setFrom] = useState<number>();
  const [to, setTo] = useState<number>();
  const [rollbackTo, setRollbackTo] = useState<VersionSummary>();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [rollbackError, setRollbackError] = useState<string>();
  const [done, setDone] = useState<string>();
  const reasonError = reasonProblem(reason);

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
        ? Promise.resolve<DiffEntry[]>([])
        : api.get<DiffEntry[]>(endpoints.diff(props.service, { from, to }), { signal }),
    [api, props.service, from, to],
  );

  const loadOlder = async () => {
    const last = versions[versions.length - 1];
    try {
      const page = await api.get<VersionSummary[]>(
        endpoints.versions(props.service, { limit: PAGE, before: last.version }),
      );
      setOlder((current) => [...current, ...page]);
    } catch (caught) {
      setOlderError(caught instanceof ApiError ? caught : undefined);
    }
  };

  const rollback = async (target: VersionSummary) => {
    setBusy(true);
    setRollbackError(undefined);
    try {
      const headers = { 'If-Match': `"${props.current}"`, ...reasonHeaders(reason) };
      const { data } = await api.request<{ version: number }>(
        'POST',
        endpoints.rollback(props.service),
        {
          body: { toVersion: target.version },
          headers,
        },
      );
      setDone(
        `Rolled back to the content of version ${target.version}: now version ${data.version}.`,
      );
      setRollbackTo(undefined);
      setReason('');
      props.onRolledBack();
    } catch (caught) {
      setRollbackError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  if (first.data === undefined) {
    return first.error ? (
      <ErrorNotice error={first.error} title="Could not load the history" />
    ) : (
      <Loading what="history" />
    );
  }
  return (
    <>
      {done ? (
        <p className="notice" role="status">
          {done}
        </p>
      ) : null}
      <div className="history">
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">
              Versions, newest first; pick two to compare
            </caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">
                  <abbr title="compare from">A</abbr>
                </th>
                <th scope="col">
                  <abbr title="compare to">B</abbr>
                </th>
                <th scope="col">When / who</th>
                <th scope="col">Kind</th>
                <th scope="col">Reason</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((version) => (
                <tr key={version.version} data-testid={`version-${version.version}`}>
                  <th scope="row">
                    v{version.version}
                    {version.version === props.current ? (
                      <span className="badge badge-set">current</span>
                    ) : null}
                  </th>
                  <CompareCell
                    side="from"
                    version={version.version}
                    picked={from}
                    onPick={setFrom}
                  />
                  <CompareCell side="to" version={version.version} picked={to} onPick={setTo} />
                  <td>
                    {formatTime(version.createdAt)}
                    <div className="muted small">{version.createdBy}</div>
                  </td>
                  <td>
                    <span className={`kind kind-${version.kind}`}>{version.kind}</span>
                  </td>
                  <td>{version.reason ?? <span className="muted">—</span>}</td>
                  <td>
                    {can('config:write') && version.version !== props.current ? (
                      <button type="button" onClick={() => setRollbackTo(version)}>
                        Roll back to v{version.version}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {versions.length % PAGE === 0 && versions[versions.length - 1]?.version > 1 ? (
            <button type="button" onClick={() => void loadOlder()}>
              Older versions
            </button>
          ) : null}
          <ErrorNotice error={olderError} />
        </div>
        <section aria-labelledby="diff-title" className="diff-pane">
          <h2 id="diff-title">
            Differences v{from} → v{to}
          </h2>
          <ErrorNotice error={diff.error} />
          {diff.data ? (
            <DiffTable entries={diff.data} fromLabel={`v${from}`} toLabel={`v${to}`} />
          ) : (
            <Loading what="the differences" />
          )}
        </section>
      </div>
      {rollbackTo ? (
        <ConfirmDialog
          title={`Roll back to version ${rollbackTo.version}?`}
          confirmLabel={`Roll back to v${rollbackTo.version}`}
          busy={busy}
          confirmDisabled={reasonError !== undefined}
          onCancel={() => setRollbackTo(undefined)}
          onConfirm={() => void rollback(rollbackTo)}
        >
          <p>
            This creates version {props.current + 1} with the config of version {rollbackTo.version}{' '}
            and pushes it to every worker. Secrets stay as they are.
          </p>
          <label htmlFor="rollback-reason">Reason</label>
          <input
            id="rollback-reason"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
            aria-invalid={reasonError !== undefined}
            aria-describedby={reasonError ? 'rollback-reason-error' : undefined}
          />
          {reasonError ? (
            <p id="rollback-reason-error" className="field-error">
              {reasonError}
            </p>
          ) : null}
          {rollbackError ? (
            <p className="field-error" role="alert">
              {rollbackError}
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </>
  );
}

/** One of the two radio columns that pick the versions to compare. */
function CompareCell(props: {
  side: 'from' | 'to';
  version: number;
  picked: number | undefined;
  onPick: (version: number) => void;
}) {
  return (
    <td>
      <input
        type="radio"
        name={`compare-${props.side}`}
        aria-label={`compare ${props.side} version ${props.version}`}
        checked={props.picked === props.version}
        onChange={() => props.onPick(props.version)}
      />
    </td>
  );
}
