import { DiffTable } from '../components/DiffTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { SlotNumberField } from '../components/SlotNumberField';
import { Loading } from '../components/Loading';
import { StrategyStepFields } from '../components/StrategyStepFields';
import { formatTime } from '../format';
import { useInstances } from '../hooks/useInstances';
import { useRolloutForm } from '../hooks/useRolloutForm';
import { useRolloutReview } from '../hooks/useRolloutReview';
import { STRATEGY_PRESETS } from '../rollouts/strategy-presets';
import { DEFAULT_ACK_TIMEOUT_SECONDS, slotId, slots } from '../rollouts/strategy-form';
import { href, navigate } from '../router';
import { useSession } from '../session';

/** Starting a rollout of a staged version: what it changes, then the strategy, from a preset. */
export function StartRolloutPage(props: {
  service: string;
  /** The version to roll out (the `version` query value); undefined when none was given. */
  version: number | undefined;
  current: number;
  archived: boolean;
}) {
  const { can } = useSession();
  if (props.version === undefined) {
    return (
      <p role="alert">
        Pick a staged version to roll out in{' '}
        <a href={href(['services', props.service, 'history'])}>the history</a>.
      </p>
    );
  }
  if (props.archived || !can('config:write')) {
    return (
      <p role="alert">
        {props.archived
          ? 'An archived service takes no rollout.'
          : 'Read-only: your token lacks config:write, which starting a rollout needs.'}
      </p>
    );
  }
  return <StartRollout {...props} version={props.version} />;
}

function StartRollout(props: { service: string; version: number; current: number }) {
  const { service, version, current } = props;
  const review = useRolloutReview(service, version, current);
  const instances = useInstances(service);
  const form = useRolloutForm(service, version, (rollout) =>
    navigate(['services', service, 'rollouts'], { id: rollout.id }),
  );
  const { summary } = review;
  const { draft, errors } = form;

  if (summary === undefined) {
    return review.summaryError ? (
      <ErrorNotice error={review.summaryError} title={`Could not load version ${version}`} />
    ) : (
      <Loading what={`version ${version}`} />
    );
  }
  if (summary === null) return <p role="alert">There is no version {version}.</p>;
  if (summary.state !== 'staged') {
    return (
      <p role="alert">
        Version {version} is not staged: it was published. Stage a change (Config, “Stage
        (don&apos;t publish)”) to roll it out.
      </p>
    );
  }
  const formError = errors[''];
  const stepsError = errors[slots.steps];
  return (
    <>
      <h2>Roll out version {version}</h2>
      <p className="muted">
        Staged {formatTime(summary.createdAt)} by {summary.createdBy}
        {summary.reason ? ` — “${summary.reason}”` : ''}. Until a step reaches them, workers keep
        version {current}.
      </p>
      <section className="section" aria-labelledby="rollout-changes-title">
        <h3 id="rollout-changes-title">
          What it changes (v{current} → v{version})
        </h3>
        <ErrorNotice error={review.diffError} />
        {review.diff ? (
          <DiffTable entries={review.diff} fromLabel={`v${current}`} toLabel={`v${version}`} />
        ) : review.diffError ? null : (
          <Loading what="the differences" />
        )}
      </section>
      <form
        className="section rollout-form"
        aria-label={`Rollout of version ${version}`}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit();
        }}
      >
        <fieldset className="presets">
          <legend>Strategy</legend>
          {STRATEGY_PRESETS.map((preset) => (
            <div key={preset.id} className="preset">
              <input
                type="radio"
                id={`preset-${preset.id}`}
                name="preset"
                checked={form.preset === preset.id}
                onChange={() => form.choosePreset(preset.id)}
                aria-describedby={`preset-${preset.id}-help`}
              />
              <label htmlFor={`preset-${preset.id}`}>{preset.label}</label>
              <span id={`preset-${preset.id}-help`} className="muted small">
                {preset.description}
              </span>
            </div>
          ))}
          <div className="preset">
            <input
              type="radio"
              id="preset-custom"
              name="preset"
              checked={form.preset === 'custom'}
              readOnly
              disabled={form.preset !== 'custom'}
            />
            <label htmlFor="preset-custom">Custom</label>
            <span className="muted small">Any preset, once you edit its steps below.</span>
          </div>
        </fieldset>

        <h3 id={slotId(slots.steps)} tabIndex={-1}>
          Steps
        </h3>
        <p className="muted small">
          Each step reaches the instances of the steps before it and more; the next starts once
          every instance it reached has baked. The last step must reach everyone.
        </p>
        {stepsError ? (
          <p className="field-error" role="alert" id={`${slotId(slots.steps)}-error`}>
            {stepsError}
          </p>
        ) : null}
        {draft.steps.map((step, index) => (
          <StrategyStepFields
            // Steps have no identity but their place; a removed step re-renders those after it.
            key={index}
            index={index}
            step={step}
            errors={errors}
            instances={instances.data?.instances}
            disabled={form.busy}
            only={draft.steps.length === 1}
            onChange={(fields, slot) => form.changeStep(index, fields, slot)}
            onRemove={() => form.removeStep(index)}
          />
        ))}
        <button type="button" onClick={form.addStep} disabled={form.busy}>
          Add a step
        </button>
        <span className="muted small"> (before the last one)</span>

        <h3>Limits</h3>
        <div className="step-fields limit-fields">
          <SlotNumberField
            slot={slots.ackTimeout}
            label="Ack timeout (seconds)"
            help={`How long a targeted instance has to apply the version once its step starts; later, the rollout rolls back (or pauses, when no instance could be reached). Empty: ${DEFAULT_ACK_TIMEOUT_SECONDS} s.`}
            value={draft.ackTimeoutSeconds}
            error={errors[slots.ackTimeout]}
            disabled={form.busy}
            onChange={form.setAckTimeout}
          />
          <SlotNumberField
            slot={slots.maxFailedRuns}
            label="Max failed runs"
            help="Failed runs on the new version one instance may report before the rollout rolls back. Empty: 0."
            value={draft.maxFailedRuns}
            error={errors[slots.maxFailedRuns]}
            disabled={form.busy}
            onChange={form.setMaxFailedRuns}
          />
        </div>

        {formError ? (
          <p id={slotId('')} className="notice notice-error" role="alert" tabIndex={-1}>
            {formError}
          </p>
        ) : null}
        <div className="actions">
          <a className="button" href={href(['services', service, 'history'])}>
            Cancel
          </a>
          <button type="submit" className="primary" disabled={form.busy}>
            {form.busy ? 'Starting…' : `Start the rollout of v${version}`}
          </button>
        </div>
      </form>
    </>
  );
}
