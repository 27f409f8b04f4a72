import type { ConfigResponse, ServiceSchema } from '../api/types';
import { ConfigSection } from '../components/ConfigSection';
import { DiffTable } from '../components/DiffTable';
import { useConfigEditor } from '../hooks/useConfigEditor';
import { href } from '../router';

/** The config form, generated from the service's JSON Schema. */
export function ConfigEditor(props: {
  service: string;
  schema: ServiceSchema;
  config: ConfigResponse;
  field?: string;
  archived?: boolean;
  onSaved: () => void;
}) {
  const editor = useConfigEditor(props);
  const { base, conflict, mine, reasonError, readOnly, clientProblemCount } = editor;
  const changed = new Set(mine);
  return (
    <form
      className="editor"
      onSubmit={(event) => {
        event.preventDefault();
        void editor.save();
      }}
      noValidate
      aria-label={`${props.service} configuration`}
    >
      <nav className="section-index" aria-label="Sections">
        {editor.form.map((group) => (
          <a
            key={group.path}
            href={href(['services', props.service, 'config'], { field: group.path })}
          >
            {group.label}
          </a>
        ))}
      </nav>
      {conflict ? (
        <section className="notice notice-warning" role="alert" aria-labelledby="conflict-title">
          <h2 id="conflict-title">
            Changed meanwhile: version {conflict.current.version} by {conflict.current.updatedBy}
          </h2>
          <p>
            You started from version {base.version}. These changes were saved since; rows marked ✎
            are fields you changed too.
          </p>
          <DiffTable
            entries={conflict.changes}
            fromLabel={`v${base.version}`}
            toLabel={`v${conflict.current.version}`}
            marked={new Set(conflict.mine)}
          />
          <div className="actions">
            <button
              type="button"
              className="primary"
              onClick={() => editor.reapply(conflict.current)}
            >
              Reapply my changes on version {conflict.current.version}
            </button>
            <button type="button" onClick={() => editor.discardForCurrent(conflict.current)}>
              Discard mine and load version {conflict.current.version}
            </button>
          </div>
        </section>
      ) : null}
      {editor.formError ? (
        <p className="notice notice-error" role="alert">
          {editor.formError}
          {editor.rolloutActive ? (
            <>
              {' '}
              Stage the change instead and roll it out once{' '}
              <a href={href(['services', props.service, 'rollouts'])}>the rollout</a> has ended.
            </>
          ) : null}
        </p>
      ) : null}
      {editor.form.map((group) => (
        <ConfigSection
          key={group.path}
          group={group}
          draft={editor.draft}
          texts={editor.texts}
          errors={editor.errors}
          changed={changed}
          highlighted={props.field}
          disabled={readOnly}
          onChange={editor.change}
        />
      ))}
      {props.schema.secretPaths.length > 0 ? (
        <p className="muted">
          Secrets ({props.schema.secretPaths.join(', ')}) are write-only:{' '}
          <a href={href(['services', props.service, 'secrets'])}>set or clear them under Secrets</a>
          .
        </p>
      ) : null}
      {editor.archived ? (
        <p className="save-bar save-state" role="status">
          Archived — register again to restore. The config is read-only.
        </p>
      ) : (
        <div className="save-bar">
          <div className="reason">
            <label htmlFor="change-reason">Reason for the change</label>
            <input
              id="change-reason"
              value={editor.reason}
              onChange={(event) => editor.setReason(event.target.value)}
              placeholder="optional, kept in history and audit"
              aria-invalid={reasonError !== undefined}
              aria-describedby={reasonError ? 'change-reason-error' : undefined}
              disabled={readOnly}
            />
            {reasonError ? (
              <p id="change-reason-error" className="field-error">
                {reasonError}
              </p>
            ) : null}
          </div>
          <p className="save-state" role="status">
            {readOnly
              ? 'Read-only: your token lacks config:write.'
              : clientProblemCount > 0
                ? `${clientProblemCount} ${clientProblemCount === 1 ? 'field needs' : 'fields need'} fixing`
                : mine.length > 0
                  ? `${mine.length} unsaved ${mine.length === 1 ? 'change' : 'changes'} on version ${base.version}`
                  : (editor.status ?? `Up to date with version ${base.version}`)}
            {editor.staged !== undefined && mine.length === 0 ? (
              <>
                {' '}
                <a
                  href={href(['services', props.service, 'start-rollout'], {
                    version: String(editor.staged),
                  })}
                >
                  Start a rollout of v{editor.staged}
                </a>
              </>
            ) : null}
          </p>
          <button
            type="button"
            disabled={mine.length === 0 || editor.busy}
            onClick={editor.discard}
          >
            Discard changes
          </button>
          <button
            type="button"
            disabled={!editor.canSave}
            onClick={() => void editor.stage()}
            aria-describedby="stage-help"
          >
            Stage (don't publish)
          </button>
          <span id="stage-help" className="visually-hidden">
            Makes a new version without sending it to the workers; roll it out from the history.
          </span>
          <button type="submit" className="primary" disabled={!editor.canSave}>
            {editor.busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      )}
    </form>
  );
}
