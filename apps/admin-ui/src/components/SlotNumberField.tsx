import { slotId } from '../rollouts/strategy-form';

/**
 * A whole-number text field of the rollout form, identified by its slot (the dotted path the
 * manager's errors name), with an optional help line and its error announced under it.
 */
export function SlotNumberField(props: {
  slot: string;
  label: string;
  value: string;
  error: string | undefined;
  disabled: boolean;
  onChange: (text: string) => void;
  help?: string;
  placeholder?: string;
}) {
  const id = slotId(props.slot);
  const described = [
    props.help === undefined ? undefined : `${id}-help`,
    props.error ? `${id}-error` : undefined,
  ].filter((part) => part !== undefined);
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        value={props.value}
        placeholder={props.placeholder}
        disabled={props.disabled}
        onChange={(event) => props.onChange(event.target.value)}
        aria-invalid={props.error !== undefined}
        aria-describedby={described.length > 0 ? described.join(' ') : undefined}
      />
      {props.help === undefined ? null : (
        <p id={`${id}-help`} className="muted small">
          {props.help}
        </p>
      )}
      {props.error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
