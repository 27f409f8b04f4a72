// The page's one modal: the confirmation asked before a rollback or clearing a secret.
import { useEffect, useRef, type ReactNode } from 'react';

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
