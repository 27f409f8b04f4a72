import type { RolloutView } from '../api/types';
import { RolloutStateBadge } from '../components/RolloutStateBadge';
import { RolloutSteps } from '../components/RolloutSteps';
import { RolloutTimeline } from '../components/RolloutTimeline';
import { formatTime } from '../format';
import { describeTrigger, stateLabel } from '../rollouts/rollout-text';
import { RolloutControls } from './RolloutControls';

/** One rollout: where it is, its steps with their instances, its controls and its timeline. */
export function RolloutDetail(props: {
  rollout: RolloutView;
  live: boolean;
  onChanged: () => void;
}) {
  const { rollout } = props;
  const total = rollout.strategy.steps.length;
  return (
    <section
      className="section rollout"
      aria-labelledby="rollout-title"
      data-testid="rollout-detail"
    >
      <h2 id="rollout-title">
        Rollout of v{rollout.version}{' '}
        <RolloutStateBadge state={rollout.state} testId="rollout-state" />
      </h2>
      <p className="muted small">
        <code>{rollout.id}</code> · stable version v{rollout.stableVersion} · started{' '}
        {formatTime(rollout.createdAt)} by {rollout.createdBy}
        {props.live ? ' · updating live' : ''}
      </p>
      {/* Announced when it changes: the state and the step, in words. */}
      <p role="status" data-testid="rollout-progress">
        {rollout.step === 0
          ? `${capitalised(stateLabel(rollout.state))}: no step started yet.`
          : `${capitalised(stateLabel(rollout.state))}, step ${rollout.step} of ${total}.`}
        {rollout.trigger && rollout.trigger !== 'complete'
          ? ` Caused by ${describeTrigger(rollout.trigger)}.`
          : ''}
        {rollout.rollbackVersion !== null
          ? ` The stable content went out again as version ${rollout.rollbackVersion}.`
          : ''}
      </p>
      <RolloutControls rollout={rollout} onChanged={props.onChanged} />
      <h3>Steps</h3>
      <RolloutSteps rollout={rollout} />
      <h3>Timeline</h3>
      <RolloutTimeline events={rollout.timeline} />
    </section>
  );
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
