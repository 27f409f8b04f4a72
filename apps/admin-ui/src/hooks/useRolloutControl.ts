// Pausing, resuming, aborting and promoting a rollout: abort and promote ask first, and each
// action's refusal (it no longer applies, say) is shown beside the buttons.
import { useState } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { RolloutView } from '../api/types';
import { canAct, type RolloutAction } from '../rollouts/rollout-text';
import { useSession } from '../session';

/** The actions that ask for a confirmation first. */
const CONFIRMED: ReadonlySet<RolloutAction> = new Set(['abort', 'promote']);

export function useRolloutControl(rollout: RolloutView, onChanged: () => void) {
  const { api, can } = useSession();
  const [asking, setAsking] = useState<RolloutAction>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // What the last action did, and the state it left the rollout in: said while it stays there.
  const [done, setDone] = useState<{ message: string; state: RolloutView['state'] }>();

  const run = async (action: RolloutAction) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const { data } = await api.request<RolloutView>(
        'POST',
        endpoints.rolloutAction(rollout.service, rollout.id, action),
      );
      setDone({ message: DONE[action], state: data.state });
      setAsking(undefined);
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return {
    /** Whether the token may act on rollouts at all (readers see no buttons). */
    allowed: can('config:write'),
    /** Whether `action` applies in the rollout's state now. */
    applies: (action: RolloutAction) => canAct(action, rollout.state),
    busy,
    error,
    done: done?.state === rollout.state ? done.message : undefined,
    asking,
    /** Runs the action, or opens its confirmation first. */
    request: (action: RolloutAction) =>
      CONFIRMED.has(action) ? (setError(undefined), setAsking(action)) : void run(action),
    cancel: () => setAsking(undefined),
    confirm: () => (asking === undefined ? undefined : void run(asking)),
  };
}

const DONE: Record<RolloutAction, string> = {
  pause: 'Paused.',
  resume: 'Resumed.',
  abort: 'Aborted: the targeted instances return to the stable content.',
  promote: 'Promoted: the last step, everyone, starts now.',
};
