import { ConfirmDialog } from '../components/ConfirmDialog';
import { DiffTable } from '../components/DiffTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { formatTime } from '../format';
import { useRollback } from '../hooks/useRollback';
import { useVersionCompare } from '../hooks/useVersionCompare';
import { href } from '../router';
import type { VersionSummary } from '../api/types';

/**
 * Versions newest first, staged ones marked; any two side by side; rollback with confirmation,
 * and a rollout of a staged version.
 */
export function HistoryPage(props: {
  service: string;
  current: number;
  archived: boolean;
  onRolledBack: () => void;
}) {
  const history = useVersionCompare(props.service, props.current);
  const rollback = useRollback(props.service, props.current, props.archived, props.onRolledBack);
  const { versions, from, to } = history;
  const rollbackTo = rollback.target;
  const nextVersion = Math.max(props.current, ...versions.map((v) => v.version)) + 1;

  if (!history.loaded) {
    return history.loadError ? (
      <ErrorNotice error={history.loadError} title="Could not load the history" />
    ) : (
      <Loading what="history" />
    );
  }
  return (
    <>
      {rollback.done ? (
        <p className="notice" role="status">
          {rollback.done}
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
                    {version.state === 'staged' ? (
                      <span className="badge badge-staged" title="not published">
                        staged
                      </span>
                    ) : null}
                  </th>
                  <CompareCell
                    side="from"
                    version={version.version}
                    picked={from}
                    onPick={history.setFrom}
                  />
                  <CompareCell
                    side="to"
                    version={version.version}
                    picked={to}
                    onPick={history.setTo}
                  />
                  <td>
                    {formatTime(version.createdAt)}
                    <div className="muted small">{version.createdBy}</div>
                  </td>
                  <td>
                    <span className={`kind kind-${version.kind}`}>{version.kind}</span>
                  </td>
                  <td>{version.reason ?? <span className="muted">—</span>}</td>
                  <td>
                    {version.state === 'staged' ? (
                      <StagedActions
                        service={props.service}
                        version={version}
                        versions={versions}
                        allowed={rollback.allowed}
                      />
                    ) : rollback.allowed && version.version !== props.current ? (
                      <button type="button" onClick={() => rollback.ask(version)}>
                        Roll back to v{version.version}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {history.hasOlder ? (
            <button type="button" onClick={() => void history.loadOlder()}>
              Older versions
            </button>
          ) : null}
          <ErrorNotice error={history.olderError} />
        </div>
        <section aria-labelledby="diff-title" className="diff-pane">
          <h2 id="diff-title">
            Differences v{from} → v{to}
          </h2>
          <ErrorNotice error={history.diffError} />
          {history.diff ? (
            <DiffTable entries={history.diff} fromLabel={`v${from}`} toLabel={`v${to}`} />
          ) : (
            <Loading what="the differences" />
          )}
        </section>
      </div>
      {rollbackTo ? (
        <ConfirmDialog
          title={`Roll back to version ${rollbackTo.version}?`}
          confirmLabel={`Roll back to v${rollbackTo.version}`}
          busy={rollback.busy}
          confirmDisabled={rollback.reasonError !== undefined}
          onCancel={rollback.cancel}
          onConfirm={() => void rollback.confirm(rollbackTo)}
        >
          <p>
            This creates version {nextVersion} with the config of version {rollbackTo.version} and
            pushes it to every worker. Secrets stay as they are.
          </p>
          <label htmlFor="rollback-reason">Reason</label>
          <input
            id="rollback-reason"
            value={rollback.reason}
            onChange={(event) => rollback.setReason(event.target.value)}
            aria-invalid={rollback.reasonError !== undefined}
            aria-describedby={rollback.reasonError ? 'rollback-reason-error' : undefined}
          />
          {rollback.reasonError ? (
            <p id="rollback-reason-error" className="field-error">
              {rollback.reasonError}
            </p>
          ) : null}
          {rollback.error ? (
            <p className="field-error" role="alert">
              {rollback.error}
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </>
  );
}

/**
 * A staged version's way out: a rollout, while it is newer than every published version (workers
 * refuse an older one as a replay, so the manager does too).
 */
function StagedActions(props: {
  service: string;
  version: VersionSummary;
  versions: readonly VersionSummary[];
  allowed: boolean;
}) {
  const newer = props.versions.find(
    (other) => other.state !== 'staged' && other.version > props.version.version,
  );
  if (newer !== undefined) {
    return (
      <span className="muted small">
        Outdated: v{newer.version} was published since. Stage the change again to roll it out.
      </span>
    );
  }
  if (!props.allowed) return null;
  return (
    <a
      className="button"
      href={href(['services', props.service, 'start-rollout'], {
        version: String(props.version.version),
      })}
    >
      Roll out v{props.version.version}
    </a>
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
