import type { RolloutView } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useRolloutControl } from '../hooks/useRolloutControl';

/**
 * Pause, resume, abort and promote, for tokens with config:write (a reader sees none); each is
 * disabled where the rollout's state does not allow it, and abort and promote ask first.
 */
export function RolloutControls(props: { rollout: RolloutView; onChanged: () => void }) {
  const { rollout } = props;
  const control = useRolloutControl(rollout, props.onChanged);
  if (!control.allowed) return null;
  const button = (
    action: 'pause' | 'resume' | 'abort' | 'promote',
    label: string,
    className?: string,
  ) => (
    <button
      type="button"
      className={className}
      disabled={control.busy || !control.applies(action)}
      onClick={() => control.request(action)}
    >
      {label}
    </button>
  );
  const last = rollout.strategy.steps.length;
  return (
    <div className="rollout-controls">
      <div className="inline" role="group" aria-label="Rollout actions">
        {button('pause', 'Pause')}
        {button('resume', 'Resume')}
        {button('promote', 'Promote…')}
        {button('abort', 'Abort…', 'danger')}
      </div>
      {control.done ? (
        <p role="status" className="small">
          {control.done}
        </p>
      ) : null}
      {control.error && control.asking === undefined ? (
        <p className="field-error" role="alert">
          {control.error}
        </p>
      ) : null}
      {control.asking === 'abort' ? (
        <ConfirmDialog
          title={`Abort the rollout of version ${rollout.version}?`}
          confirmLabel="Abort the rollout"
          danger
          busy={control.busy}
          onCancel={control.cancel}
          onConfirm={control.confirm}
        >
          <p>
            The instances it reached return to the content of version {rollout.stableVersion}, as a
            new version; the others never see version {rollout.version}. This cannot be resumed.
          </p>
          {control.error ? (
            <p className="field-error" role="alert">
              {control.error}
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
      {control.asking === 'promote' ? (
        <ConfirmDialog
          title={`Promote version ${rollout.version} to everyone?`}
          confirmLabel="Promote to everyone"
          busy={control.busy}
          onCancel={control.cancel}
          onConfirm={control.confirm}
        >
          <p>
            This skips to the last step (step {last}) now, without waiting for the bakes of the
            steps before it: every instance gets version {rollout.version}.
          </p>
          {control.error ? (
            <p className="field-error" role="alert">
              {control.error}
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
