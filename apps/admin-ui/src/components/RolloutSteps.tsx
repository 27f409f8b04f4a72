// A rollout's steps in order: each one's cohort, bake and start, and the instances it reached
// with where each of them is.
import type { RolloutView } from '../api/types';
import { formatTime } from '../format';
import { describeBake, describeCohort, isActive } from '../rollouts/rollout-text';
import { RolloutStateBadge } from './RolloutStateBadge';

export function RolloutSteps({ rollout }: { rollout: RolloutView }) {
  const states = new Map(rollout.instances.map((instance) => [instance.instanceId, instance]));
  return (
    <ol className="rollout-steps">
      {rollout.steps.map((step) => {
        const current = step.step === rollout.step && isActive(rollout.state);
        const last = step.step === rollout.strategy.steps.length;
        const strategyStep = rollout.strategy.steps[step.step - 1];
        // Cohorts are cumulative: a step lists the instances it added to those before it.
        const reached = rollout.instances.filter((instance) => instance.step === step.step);
        const listed = new Set(reached.map((instance) => instance.instanceId));
        const unlisted = step.instances.filter(
          (id) => !listed.has(id) && (states.get(id)?.step ?? step.step) === step.step,
        );
        return (
          <li
            key={step.step}
            className={current ? 'rollout-step current' : 'rollout-step'}
            aria-current={current ? 'step' : undefined}
            data-testid={`rollout-step-${step.step}`}
          >
            <h4>
              Step {step.step}: {describeCohort(step.cohort)}
              {current ? <span className="badge">current</span> : null}
            </h4>
            <p className="muted small">
              {last
                ? `The completion: v${rollout.version} becomes the current version, on the stable topic for every instance`
                : `Bake ${describeBake(strategyStep?.bake)}`}{' '}
              · {step.startedAt ? `started ${formatTime(step.startedAt)}` : 'not started'}
            </p>
            {reached.length + unlisted.length > 0 ? (
              <ul className="rollout-instances" aria-label={`Instances of step ${step.step}`}>
                {reached.map((instance) => (
                  <li
                    key={instance.instanceId}
                    data-testid={`rollout-instance-${instance.instanceId}`}
                  >
                    <code>{instance.instanceId}</code> <RolloutStateBadge state={instance.state} />
                  </li>
                ))}
                {unlisted.map((id) => (
                  <li key={id} data-testid={`rollout-instance-${id}`}>
                    <code>{id}</code> <RolloutStateBadge state="pending" />
                  </li>
                ))}
              </ul>
            ) : last ? null : (
              <p className="muted small">
                {step.startedAt
                  ? 'No instance added by this step.'
                  : 'Instances are chosen when it starts.'}
              </p>
            )}
          </li>
        );
      })}
    </ol>
  );
}
