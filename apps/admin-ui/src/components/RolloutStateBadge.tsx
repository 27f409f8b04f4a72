// A rollout's or a targeted instance's state as a coloured word.
import type { RolloutInstanceState, RolloutState } from '../api/types';
import { stateLabel } from '../rollouts/rollout-text';

export function RolloutStateBadge(props: {
  state: RolloutState | RolloutInstanceState;
  testId?: string;
}) {
  return (
    <span className={`badge rollout-state state-${props.state}`} data-testid={props.testId}>
      {stateLabel(props.state)}
    </span>
  );
}
