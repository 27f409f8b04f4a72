import { useEffect, useRef, type ReactNode } from 'react';
import type { ApiError } from '../api/client';

/** An error from the API, with the request id to quote to ops. */
export function ErrorNotice({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (error === undefined) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {error.message}
      {error.body?.requestId ? (
        <span className="muted"> (request {error.body.requestId})</span>
      ) : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A confirmation dialog: focus moves into it, Escape cancels, focus returns afterwards. */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  /** Keeps the confirm button disabled (an input in the dialog is invalid). */
  confirmDisabled?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialog.current?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    return () => previous?.focus();
  }, []);
  return (
    <div className="backdrop" onKeyDown={(event) => event.key === 'Escape' && props.onCancel()}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        ref={dialog}
      >
        <h2 id="dialog-title">{props.title}</h2>
        <div>{props.children}</div>
        <div className="actions">
          <button type="button" onClick={props.onCancel} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            className={props.danger ? 'danger' : 'primary'}
            disabled={props.busy || props.confirmDisabled}
            onClick={props.onConfirm}
          >
            {props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** Instances on the current version, on an older one, and offline, as a stacked bar. */
export function InstanceBar(props: { current: number; older: number; offline: number }) {
  const total = props.current + props.older + props.offline;
  const label = `${props.current} on the current version, ${props.older} on an older version, ${props.offline} offline`;
  if (total === 0) return <span className="muted">no instances yet</span>;
  const part = (count: number, className: string) =>
    count === 0 ? null : <span className={`bar-part ${className}`} style={{ flexGrow: count }} />;
  return (
    <div className="instance-bar" role="img" aria-label={label} title={label}>
      <div className="bar">
        {part(props.current, 'bar-current')}
        {part(props.older, 'bar-older')}
        {part(props.offline, 'bar-offline')}
      </div>
      <span className="bar-legend">
        {props.current}/{total} current{props.older ? `, ${props.older} older` : ''}
        {props.offline ? `, ${props.offline} offline` : ''}
      </span>
    </div>
  );
}
