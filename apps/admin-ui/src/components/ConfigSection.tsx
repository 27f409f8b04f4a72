// The config form's sections as generated from the schema: groups, x-sum lines and field rows.
import type { ConfigObject } from '../api/types';
import { fieldId } from '../schema/form-labels';
import { getAt } from '../schema/config-edits';
import { formatNumber, sumOf } from '../schema/form-checks';
import type { FieldErrors, FieldNode, FormNode, GroupNode } from '../schema/form-model';
import { FieldInput } from './FieldInput';

interface SectionProps {
  group: GroupNode;
  draft: ConfigObject;
  texts: Record<string, string>;
  errors: FieldErrors;
  changed: ReadonlySet<string>;
  highlighted: string | undefined;
  disabled: boolean;
  onChange: (path: string, value: unknown, text?: string) => void;
}

/** One top-level section of the config form, its nested groups as fieldsets. */
export function ConfigSection(props: SectionProps) {
  const { group } = props;
  // A top-level leaf is a section of one field: the field's input holds its id, not the heading.
  const leaf = isLeafSection(group);
  return (
    <section className="section" aria-labelledby={`${fieldId(group.path)}-title`}>
      <h2 id={`${fieldId(group.path)}-title`}>
        <span tabIndex={-1} id={leaf ? undefined : fieldId(group.path)}>
          {group.label}
        </span>
      </h2>
      {group.description ? <p className="muted">{group.description}</p> : null}
      <GroupBody {...props} />
    </section>
  );
}

function GroupBody(props: SectionProps) {
  const { group, draft } = props;
  const value = getAt(draft, group.path);
  const off = group.nullable && value === null;
  return (
    <>
      {group.nullable ? (
        <label className="toggle">
          <input
            type="checkbox"
            checked={!off}
            disabled={props.disabled}
            onChange={(event) =>
              props.onChange(group.path, event.target.checked ? group.defaultValue : null)
            }
          />{' '}
          Use separate settings for {group.label.toLowerCase()}
        </label>
      ) : null}
      {group.sum && !off ? (
        <SumLine group={group} value={value} error={props.errors[group.path]} />
      ) : null}
      {!group.sum && !isLeafSection(group) && props.errors[group.path] ? (
        <p className="field-error" role="alert" id={`${fieldId(group.path)}-error`}>
          {props.errors[group.path]}
        </p>
      ) : null}
      {off
        ? null
        : group.children.map((child: FormNode) =>
            child.type === 'field' ? (
              <FieldRow key={child.path} field={child} holder={value} {...props} />
            ) : (
              <fieldset key={child.path} className="group">
                <legend id={fieldId(child.path)} tabIndex={-1}>
                  {child.label}
                </legend>
                {child.description ? <p className="muted small">{child.description}</p> : null}
                <GroupBody {...props} group={child} />
              </fieldset>
            ),
          )}
    </>
  );
}

/** A top-level leaf, wrapped as a section of one field at the same path. */
function isLeafSection(group: GroupNode): boolean {
  return group.children.length === 1 && group.children[0].path === group.path;
}

function SumLine({
  group,
  value,
  error,
}: {
  group: GroupNode;
  value: unknown;
  error: string | undefined;
}) {
  const total = sumOf(group, value);
  return (
    <p
      className={error ? 'sum sum-bad' : 'sum'}
      aria-live="polite"
      data-testid={`sum-${group.path}`}
    >
      Sum: <strong>{total === undefined ? '—' : formatNumber(total)}</strong>
      {error ? (
        <span className="field-error" role="alert" id={`${fieldId(group.path)}-error`}>
          {' '}
          — {group.path} {error}
        </span>
      ) : (
        <span> ✓ (must be {group.sum?.equals})</span>
      )}
    </p>
  );
}

function FieldRow(props: SectionProps & { field: FieldNode; holder: unknown }) {
  const { field } = props;
  const value = getAt(props.draft, field.path);
  const error = props.errors[field.path];
  const id = fieldId(field.path);
  return (
    <div
      className={`field${props.highlighted === field.path ? ' highlighted' : ''}${props.changed.has(field.path) ? ' changed' : ''}`}
    >
      <label htmlFor={id}>
        {field.label} <code className="path">{field.path}</code>
      </label>
      <FieldInput
        id={id}
        field={field}
        value={value}
        text={props.texts[field.path]}
        disabled={props.disabled}
        invalid={error !== undefined}
        describedBy={`${id}-help${error ? ` ${id}-error` : ''}`}
        onChange={(next, text) => props.onChange(field.path, next, text)}
      />
      <p id={`${id}-help`} className="muted small">
        {field.description}
        {field.hint ? <span className="hint"> ({field.hint})</span> : null}
      </p>
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
