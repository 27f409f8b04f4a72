import type { FieldNode } from '../schema/form-model';

interface FieldInputProps {
  id: string;
  field: FieldNode;
  value: unknown;
  /** What the admin typed, when it is not (yet) a valid value. */
  text: string | undefined;
  disabled: boolean;
  invalid: boolean;
  describedBy: string;
  /** The new value, and the raw text when the input is text that parses to it. */
  onChange: (value: unknown, text?: string) => void;
}

/** The input for one config leaf, chosen by its schema type. */
export function FieldInput(props: FieldInputProps) {
  const { field, value } = props;
  const common = {
    id: props.id,
    disabled: props.disabled,
    'aria-invalid': props.invalid,
    'aria-describedby': props.describedBy,
  };
  switch (field.kind) {
    case 'boolean':
      return (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(event) => props.onChange(event.target.checked)}
        />
      );
    case 'enum': {
      // Options by index, so that number and boolean enums keep their type.
      const options = field.schema.enum ?? [];
      return (
        <select
          {...common}
          value={String(options.findIndex((option) => option === value))}
          onChange={(event) => props.onChange(options[Number(event.target.value)])}
        >
          {options.map((option, index) => (
            <option key={index} value={String(index)}>
              {typeof option === 'string' ? option : JSON.stringify(option)}
            </option>
          ))}
        </select>
      );
    }
    case 'number':
    case 'integer':
      return (
        <input
          {...common}
          type="text"
          inputMode={field.kind === 'integer' ? 'numeric' : 'decimal'}
          autoComplete="off"
          value={
            props.text ??
            (typeof value === 'number' || typeof value === 'string' ? String(value) : '')
          }
          onChange={(event) => props.onChange(parseNumber(event.target.value), event.target.value)}
        />
      );
    case 'string':
      return (
        <input
          {...common}
          type="text"
          autoComplete="off"
          value={typeof value === 'string' ? value : ''}
          onChange={(event) => props.onChange(event.target.value)}
        />
      );
    case 'string-list':
      return (
        <textarea
          {...common}
          rows={4}
          placeholder="one entry per line"
          value={props.text ?? (Array.isArray(value) ? value.join('\n') : '')}
          onChange={(event) =>
            props.onChange(
              event.target.value
                .split('\n')
                .map((line) => line.trim())
                .filter(Boolean),
              event.target.value,
            )
          }
        />
      );
    case 'json':
      return (
        <textarea
          {...common}
          className="code"
          rows={6}
          spellCheck={false}
          value={props.text ?? JSON.stringify(value, null, 2)}
          onChange={(event) => props.onChange(parseJson(event.target.value), event.target.value)}
        />
      );
  }
}

// Text that is not a number stays text, so the field shows "must be a number" instead of losing it.
function parseNumber(text: string): unknown {
  const trimmed = text.trim();
  const number = trimmed === '' ? NaN : Number(trimmed);
  return Number.isFinite(number) ? number : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
