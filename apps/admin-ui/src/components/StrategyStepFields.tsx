// One step of the rollout form: who it targets (and how many of today's instances that is), and
// its bake in completed runs and/or seconds.
import type { InstanceView, RolloutCohort } from '../api/types';
import { cohortReach } from '../rollouts/rollout-text';
import { SlotNumberField } from './SlotNumberField';
import {
  parseSelector,
  slotId,
  slots,
  type CohortKind,
  type StepDraft,
  type StrategyErrors,
} from '../rollouts/strategy-form';

const KINDS: ReadonlyArray<readonly [CohortKind, string]> = [
  ['instances', 'Some instances'],
  ['percent', 'A percent'],
  ['selector', 'By labels'],
  ['all', 'Everyone'],
];

export function StrategyStepFields(props: {
  index: number;
  step: StepDraft;
  errors: StrategyErrors;
  /** The instances known now, for the reach of the cohort; undefined while loading. */
  instances: readonly InstanceView[] | undefined;
  disabled: boolean;
  /** Only step of the list: it cannot be removed. */
  only: boolean;
  onChange: (fields: Partial<StepDraft>, slot: string) => void;
  onRemove: () => void;
}) {
  const { index, step, errors } = props;
  const number = index + 1;
  const cohortSlot = slots.cohort(index);
  const cohortError = errors[cohortSlot];
  const stepError = errors[slots.step(index)];
  const reach = reachOf(step, props.instances);
  return (
    <fieldset className="group step" data-testid={`step-${number}`}>
      <legend id={slotId(slots.step(index))} tabIndex={-1}>
        Step {number}
      </legend>
      {stepError ? (
        <p className="field-error" role="alert">
          {stepError}
        </p>
      ) : null}
      <div className="step-fields">
        <div className="field">
          <label htmlFor={`rollout-step-${index}-kind`}>Who</label>
          <select
            id={`rollout-step-${index}-kind`}
            value={step.kind}
            disabled={props.disabled}
            onChange={(event) =>
              props.onChange({ kind: event.target.value as CohortKind }, cohortSlot)
            }
          >
            {KINDS.map(([kind, label]) => (
              <option key={kind} value={kind}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {step.kind === 'all' ? null : (
          <div className="field">
            <label htmlFor={slotId(cohortSlot)}>
              {step.kind === 'instances'
                ? 'Instances'
                : step.kind === 'percent'
                  ? 'Percent'
                  : 'Labels (key=value, …)'}
            </label>
            <input
              id={slotId(cohortSlot)}
              type="text"
              inputMode={
                step.kind === 'selector'
                  ? undefined
                  : step.kind === 'percent'
                    ? 'decimal'
                    : 'numeric'
              }
              spellCheck={false}
              autoComplete="off"
              value={step.kind === 'selector' ? step.selector : step.amount}
              disabled={props.disabled}
              placeholder={step.kind === 'selector' ? 'tier=canary' : undefined}
              onChange={(event) =>
                props.onChange(
                  step.kind === 'selector'
                    ? { selector: event.target.value }
                    : { amount: event.target.value },
                  cohortSlot,
                )
              }
              aria-invalid={cohortError !== undefined}
              aria-describedby={`${slotId(cohortSlot)}-reach${cohortError ? ` ${slotId(cohortSlot)}-error` : ''}`}
            />
          </div>
        )}
        <SlotNumberField
          placeholder="none"
          slot={slots.runs(index)}
          label="Bake: completed runs"
          value={step.runs}
          error={errors[slots.runs(index)]}
          disabled={props.disabled}
          onChange={(runs) => props.onChange({ runs }, slots.runs(index))}
        />
        <SlotNumberField
          placeholder="none"
          slot={slots.seconds(index)}
          label="Bake: seconds"
          value={step.seconds}
          error={errors[slots.seconds(index)]}
          disabled={props.disabled}
          onChange={(seconds) => props.onChange({ seconds }, slots.seconds(index))}
        />
        <button
          type="button"
          className="step-remove"
          disabled={props.disabled || props.only}
          onClick={props.onRemove}
        >
          Remove step {number}
        </button>
      </div>
      <p
        id={`${slotId(cohortSlot)}-reach`}
        className={reach?.count === 0 ? 'muted small reach-none' : 'muted small'}
        data-testid="reach"
      >
        {reach === undefined
          ? 'Counting the instances…'
          : reach === null
            ? ''
            : reach.count === 0 && step.kind === 'selector'
              ? `Matches none of the ${reach.of} instances up now: the manager refuses a selector that matches nobody.`
              : `Reaches ${reach.count} of the ${reach.of} instances up now${index > 0 ? ' (steps add up: the earlier steps’ instances stay on the new version)' : ''}.`}
      </p>
      {cohortError ? (
        <p id={`${slotId(cohortSlot)}-error`} className="field-error" role="alert">
          {cohortError}
        </p>
      ) : null}
    </fieldset>
  );
}

/**
 * The reach of the step's cohort over the known instances; undefined while they load, null while
 * what is typed is no cohort yet.
 */
function reachOf(
  step: StepDraft,
  instances: readonly InstanceView[] | undefined,
): { count: number; of: number } | undefined | null {
  if (instances === undefined) return undefined;
  let cohort: RolloutCohort | undefined;
  if (step.kind === 'all') cohort = { all: true };
  else if (step.kind === 'selector') {
    const parsed = parseSelector(step.selector);
    cohort = 'labels' in parsed ? { selector: parsed.labels } : undefined;
  } else {
    const amount = Number(step.amount);
    if (step.amount.trim() !== '' && Number.isFinite(amount) && amount > 0)
      cohort =
        step.kind === 'instances' ? { instances: amount } : { percent: Math.min(amount, 100) };
  }
  return cohort === undefined ? null : cohortReach(cohort, instances);
}
