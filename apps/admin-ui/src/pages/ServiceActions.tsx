import type { JsonSchema, ServiceSummary } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { formatTime } from '../format';
import { useServiceLifecycle } from '../hooks/useServiceLifecycle';
import { href } from '../router';

/**
 * A service's archived note, and for admins of a service registered over the API: Edit schema
 * and Archive while active, Restore once archived.
 */
export function ServiceActions(props: {
  summary: ServiceSummary;
  schema: JsonSchema;
  onChanged: () => void;
}) {
  const { summary } = props;
  const lifecycle = useServiceLifecycle(summary.service, props.onChanged);
  const archived = summary.archivedAt !== null;
  const manageable = lifecycle.allowed && summary.origin === 'api';
  return (
    <>
      {archived ? (
        <div className="notice notice-warning" role="status">
          <strong>Archived</strong> {formatTime(summary.archivedAt)} — register again to restore.
          Its config, history and schema versions stay readable; nothing can be changed.
          {manageable ? (
            <div className="actions">
              <button
                type="button"
                className="primary"
                disabled={lifecycle.busy}
                onClick={() => void lifecycle.restore(props.schema)}
              >
                Restore
              </button>
            </div>
          ) : null}
        </div>
      ) : manageable ? (
        <div className="inline service-actions">
          <a className="button" href={href(['services', summary.service, 'edit-schema'])}>
            Edit schema
          </a>
          <button type="button" className="danger" onClick={lifecycle.ask}>
            Archive
          </button>
        </div>
      ) : null}
      {lifecycle.done ? (
        <p className="notice" role="status">
          {lifecycle.done}
        </p>
      ) : null}
      {lifecycle.error && !lifecycle.asking ? (
        <p className="notice notice-error" role="alert">
          {lifecycle.error}
        </p>
      ) : null}
      {lifecycle.asking ? (
        <ConfirmDialog
          title={`Archive ${summary.service}?`}
          confirmLabel={`Archive ${summary.service}`}
          danger
          busy={lifecycle.busy}
          confirmDisabled={lifecycle.reasonError !== undefined}
          onCancel={lifecycle.cancel}
          onConfirm={() => void lifecycle.archive()}
        >
          <p>
            Its workers keep the config they run and are told it is archived; it takes no changes
            until it is registered again. Its history and schema versions stay.
          </p>
          <label htmlFor="archive-reason">Reason</label>
          <input
            id="archive-reason"
            value={lifecycle.reason}
            onChange={(event) => lifecycle.setReason(event.target.value)}
            aria-invalid={lifecycle.reasonError !== undefined}
          />
          {lifecycle.reasonError ? <p className="field-error">{lifecycle.reasonError}</p> : null}
          {lifecycle.error ? (
            <p className="field-error" role="alert">
              {lifecycle.error}
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </>
  );
}
