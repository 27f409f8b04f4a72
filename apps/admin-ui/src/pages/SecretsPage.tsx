import type { ConfigResponse, ServiceSchema } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { formatTime } from '../format';
import { useSecretForm, type SecretFormInput } from '../hooks/useSecretForm';

/** Write-only secrets: set, replace or clear; a value is never shown back, not even masked. */
export function SecretsPage(props: {
  service: string;
  schema: ServiceSchema;
  config: ConfigResponse;
  field?: string;
  archived?: boolean;
  onChanged: () => void;
}) {
  if (props.schema.secretPaths.length === 0) return <p>{props.service} has no secrets.</p>;
  return (
    <>
      <p className="muted">
        Secrets are sealed for the workers and never leave the server in clear. Nothing you type
        here is shown again.
      </p>
      {props.schema.secretPaths.map((path) => (
        <SecretRow key={path} path={path} {...props} />
      ))}
    </>
  );
}

function SecretRow(props: SecretFormInput) {
  const secret = useSecretForm(props);
  const { id, state, allowed, busy, error } = secret;
  return (
    <form
      className="section secret"
      onSubmit={(event) => {
        event.preventDefault();
        secret.submit();
      }}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h2 id={`${id}-title`}>
        <code>{props.path}</code>{' '}
        <span
          className={state.set ? 'badge badge-set' : 'badge'}
          data-testid={`secret-state-${props.path}`}
        >
          {state.set ? `set · ${formatTime(state.updatedAt)}` : 'not set'}
        </span>
      </h2>
      {secret.description ? <p className="muted">{secret.description}</p> : null}
      <label htmlFor={id}>{state.set ? 'Replace with' : 'Value'}</label>
      <div className="inline">
        {/* Uncontrolled (no value prop), so the secret never reaches the page's HTML. */}
        <input
          id={id}
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          ref={secret.input}
          disabled={!allowed || busy}
          onChange={secret.edited}
          aria-invalid={error !== undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        <button type="submit" className="primary" disabled={!allowed || busy}>
          {state.set ? 'Replace' : 'Set'}
        </button>
        <button
          type="button"
          className="danger"
          disabled={!allowed || busy || !state.set}
          onClick={secret.askClear}
        >
          Clear
        </button>
      </div>
      {secret.archived ? (
        <p className="muted">Archived — register again to restore.</p>
      ) : !allowed ? (
        <p className="muted">Your token lacks secrets:write.</p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {secret.status ? <p role="status">{secret.status}</p> : null}
      {secret.confirmClear ? (
        <ConfirmDialog
          title={`Clear ${props.path}?`}
          confirmLabel="Clear the secret"
          danger
          busy={busy}
          onCancel={secret.cancelClear}
          onConfirm={secret.clear}
        >
          <p>
            Workers receive a new version without it. This cannot be undone by a rollback: rollbacks
            restore config, not secrets.
          </p>
        </ConfirmDialog>
      ) : null}
    </form>
  );
}
