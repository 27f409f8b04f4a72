import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { ConfigResponse, ServiceSchema } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { formatTime } from '../format';
import { codePointLength, schemaAt } from '../schema/form-model';
import { useSession } from '../session';

/** Write-only secrets: set, replace or clear; a value is never shown back, not even masked. */
export function SecretsPage(props: {
  service: string;
  schema: ServiceSchema;
  config: ConfigResponse;
  field?: string;
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

function SecretRow(props: {
  service: string;
  schema: ServiceSchema;
  config: ConfigResponse;
  path: string;
  field?: string;
  onChanged: () => void;
}) {
  const { api, can } = useSession();
  // Uncontrolled on purpose: React would mirror a controlled value into the `value` attribute,
  // putting the secret into the page's HTML while it is typed.
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [confirmClear, setConfirmClear] = useState(false);
  const state = props.config.secrets[props.path] ?? { set: false, updatedAt: null };
  const schema = schemaAt(props.schema.schema, props.path);
  const id = `secret-${props.path.replaceAll('.', '--')}`;
  const allowed = can('secrets:write');

  useEffect(() => {
    if (props.field === props.path) document.getElementById(id)?.focus();
  }, [props.field, props.path, id]);

  const run = async (method: 'PUT' | 'DELETE', done: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const value = input.current?.value ?? '';
      await api.request<void>(
        method,
        endpoints.secret(props.service, props.path),
        method === 'PUT' ? { body: { value } } : {},
      );
      if (input.current) input.current.value = '';
      setStatus(done);
      props.onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
      setConfirmClear(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = input.current?.value ?? '';
    if (value === '') {
      setError('Type the new value, or use Clear');
      return;
    }
    if (schema?.maxLength !== undefined && codePointLength(value) > schema.maxLength) {
      setError(`At most ${schema.maxLength} characters`);
      return;
    }
    void run('PUT', state.set ? 'Replaced.' : 'Set.');
  };

  return (
    <form className="section secret" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        <code>{props.path}</code>{' '}
        <span
          className={state.set ? 'badge badge-set' : 'badge'}
          data-testid={`secret-state-${props.path}`}
        >
          {state.set ? `set · ${formatTime(state.updatedAt)}` : 'not set'}
        </span>
      </h2>
      {schema?.description ? <p className="muted">{schema.description}</p> : null}
      <label htmlFor={id}>{state.set ? 'Replace with' : 'Value'}</label>
      <div className="inline">
        <input
          id={id}
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          ref={input}
          disabled={!allowed || busy}
          onChange={() => {
            setStatus(undefined);
            setError(undefined);
          }}
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
          onClick={() => setConfirmClear(true)}
        >
          Clear
        </button>
      </div>
      {!allowed ? <p className="muted">Your token lacks secrets:write.</p> : null}
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {status ? <p role="status">{status}</p> : null}
      {confirmClear ? (
        <ConfirmDialog
          title={`Clear ${props.path}?`}
          confirmLabel="Clear the secret"
          danger
          busy={busy}
          onCancel={() => setConfirmClear(false)}
          onConfirm={() => void run('DELETE', 'Cleared.')}
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
