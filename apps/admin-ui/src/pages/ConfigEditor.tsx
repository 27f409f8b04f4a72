import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { reasonHeaders, reasonProblem } from '../api/change-reason';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { ConfigObject, ConfigResponse, DiffEntry, ServiceSchema } from '../api/types';
import { DiffTable } from '../components/DiffTable';
import { FieldInput } from '../components/FieldInput';
import {
  buildForm,
  changedPaths,
  checkConfig,
  fieldsOf,
  formatNumber,
  getAt,
  groupsOf,
  patchBetween,
  rebase,
  setAt,
  sumOf,
  type FieldErrors,
  type FieldNode,
  type FormNode,
  type GroupNode,
} from '../schema/form-model';
import { href } from '../router';
import { useSession } from '../session';

interface Conflict {
  readonly current: ConfigResponse;
  readonly changes: DiffEntry[];
  readonly mine: string[];
}

/** The config form, generated from the service's JSON Schema. */
export function ConfigEditor(props: {
  service: string;
  schema: ServiceSchema;
  config: ConfigResponse;
  field?: string;
  onSaved: () => void;
}) {
  const { api, can } = useSession();
  const form = useMemo(() => buildForm(props.schema.schema), [props.schema]);
  const [base, setBase] = useState(props.config);
  const [draft, setDraft] = useState<ConfigObject>(props.config.config);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string>();
  const [conflict, setConflict] = useState<Conflict>();

  const mine = useMemo(() => changedPaths(form, base.config, draft), [form, base, draft]);
  const clientErrors = useMemo(() => checkConfig(form, draft), [form, draft]);
  const reasonError = reasonProblem(reason);
  const errors = { ...serverErrors, ...clientErrors };
  const knownPaths = useMemo(
    () => new Set([...fieldsOf(form), ...groupsOf(form)].map((node) => node.path)),
    [form],
  );

  // A newer version from elsewhere (a rollback, a reload) replaces an untouched form.
  useEffect(() => {
    if (props.config.version !== base.version && mine.length === 0 && conflict === undefined) {
      setBase(props.config);
      setDraft(props.config.config);
      setTexts({});
    }
    // Only a new version from the server matters here, not the admin's typing.
  }, [props.config]);

  // Arriving from search: show and focus the field.
  useEffect(() => {
    if (props.field === undefined) return;
    const input = document.getElementById(fieldId(props.field));
    input?.scrollIntoView({ block: 'center' });
    input?.focus();
  }, [props.field]);

  useEffect(() => {
    if (mine.length === 0) return undefined;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [mine.length]);

  const change = (path: string, value: unknown, text?: string) => {
    setDraft((current) => setAt(current, path, value));
    setTexts((current) => {
      const next = { ...current };
      if (text === undefined) delete next[path];
      else next[path] = text;
      return next;
    });
    setServerErrors((current) => withoutPath(current, path));
    setStatus(undefined);
  };

  const reset = (to: ConfigResponse) => {
    setBase(to);
    setDraft(to.config);
    setTexts({});
    setServerErrors({});
    setFormError(undefined);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const patch = patchBetween(base.config, draft);
    if (patch === undefined || Object.keys(clientErrors).length > 0 || reasonError) return;
    setBusy(true);
    setFormError(undefined);
    try {
      const headers = { 'If-Match': `"${base.version}"`, ...reasonHeaders(reason) };
      const { data } = await api.request<ConfigResponse>('PATCH', endpoints.config(props.service), {
        body: patch,
        headers,
      });
      reset(data);
      setReason('');
      setStatus(`Saved as version ${data.version}.`);
      props.onSaved();
    } catch (caught) {
      if (!(caught instanceof ApiError)) throw caught;
      if (caught.status === 412) {
        await loadConflict();
      } else {
        const mapped = mapServerErrors(caught, knownPaths);
        setServerErrors(mapped.byPath);
        setFormError(mapped.unplaced);
      }
    } finally {
      setBusy(false);
    }
  };

  const loadConflict = async () => {
    const current = await api.get<ConfigResponse>(endpoints.config(props.service));
    const changes = await api.get<DiffEntry[]>(
      endpoints.diff(props.service, { from: base.version, to: current.version }),
    );
    setConflict({ current, changes, mine });
  };

  const reapply = (current: ConfigResponse) => {
    const rebased = rebase(current.config, draft, mine);
    setBase(current);
    setDraft(rebased);
    setServerErrors({});
    setConflict(undefined);
    setStatus(`Your changes now sit on version ${current.version}: review them and save.`);
  };

  const readOnly = !can('config:write');
  const clientProblemCount = Object.keys(clientErrors).length;
  return (
    <form
      className="editor"
      onSubmit={(event) => void save(event)}
      noValidate
      aria-label={`${props.service} configuration`}
    >
      <nav className="section-index" aria-label="Sections">
        {form.map((group) => (
          <a
            key={group.path}
            href={href(['services', props.service, 'config'], { field: group.path })}
          >
            {label(group.name)}
          </a>
        ))}
      </nav>
      {conflict ? (
        <section className="notice notice-warning" role="alert" aria-labelledby="conflict-title">
          <h2 id="conflict-title">
            Changed meanwhile: version {conflict.current.version} by {conflict.current.updatedBy}
          </h2>
          <p>
            You started from version {base.version}. These changes were saved since; rows marked ✎
            are fields you changed too.
          </p>
          <DiffTable
            entries={conflict.changes}
            fromLabel={`v${base.version}`}
            toLabel={`v${conflict.current.version}`}
            marked={new Set(conflict.mine)}
          />
          <div className="actions">
            <button type="button" className="primary" onClick={() => reapply(conflict.current)}>
              Reapply my changes on version {conflict.current.version}
            </button>
            <button
              type="button"
              onClick={() => {
                reset(conflict.current);
                setConflict(undefined);
              }}
            >
              Discard mine and load version {conflict.current.version}
            </button>
          </div>
        </section>
      ) : null}
      {formError ? (
        <p className="notice notice-error" role="alert">
          {formError}
        </p>
      ) : null}
      {form.map((group) => (
        <Section
          key={group.path}
          group={group}
          draft={draft}
          texts={texts}
          errors={errors}
          changed={new Set(mine)}
          highlighted={props.field}
          disabled={readOnly}
          onChange={change}
        />
      ))}
      {props.schema.secretPaths.length > 0 ? (
        <p className="muted">
          Secrets ({props.schema.secretPaths.join(', ')}) are write-only:{' '}
          <a href={href(['services', props.service, 'secrets'])}>set or clear them under Secrets</a>
          .
        </p>
      ) : null}
      <div className="save-bar">
        <div className="reason">
          <label htmlFor="change-reason">Reason for the change</label>
          <input
            id="change-reason"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
            placeholder="optional, kept in history and audit"
            aria-invalid={reasonError !== undefined}
            aria-describedby={reasonError ? 'change-reason-error' : undefined}
            disabled={readOnly}
          />
          {reasonError ? (
            <p id="change-reason-error" className="field-error">
              {reasonError}
            </p>
          ) : null}
        </div>
        <p className="save-state" role="status">
          {readOnly
            ? 'Read-only: your token lacks config:write.'
            : clientProblemCount > 0
              ? `${clientProblemCount} ${clientProblemCount === 1 ? 'field needs' : 'fields need'} fixing`
              : mine.length > 0
                ? `${mine.length} unsaved ${mine.length === 1 ? 'change' : 'changes'} on version ${base.version}`
                : (status ?? `Up to date with version ${base.version}`)}
        </p>
        <button type="button" disabled={mine.length === 0 || busy} onClick={() => reset(base)}>
          Discard changes
        </button>
        <button
          type="submit"
          className="primary"
          disabled={
            readOnly ||
            busy ||
            mine.length === 0 ||
            clientProblemCount > 0 ||
            reasonError !== undefined ||
            conflict !== undefined
          }
        >
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

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

function Section(props: SectionProps) {
  const { group } = props;
  return (
    <section className="section" aria-labelledby={`${fieldId(group.path)}-title`}>
      <h2 id={`${fieldId(group.path)}-title`}>
        <span tabIndex={-1} id={fieldId(group.path)}>
          {label(group.name)}
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
          Use separate settings for {label(group.name).toLowerCase()}
        </label>
      ) : null}
      {group.sum && !off ? (
        <SumLine group={group} value={value} error={props.errors[group.path]} />
      ) : null}
      {!group.sum && props.errors[group.path] ? (
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
                  {label(child.name)}
                </legend>
                {child.description ? <p className="muted small">{child.description}</p> : null}
                <GroupBody {...props} group={child} />
              </fieldset>
            ),
          )}
    </>
  );
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
        {label(field.name)} <code className="path">{field.path}</code>
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

/** The DOM id of a field's input (also the target of search links). */
export function fieldId(path: string): string {
  return `field-${path.replaceAll('.', '--')}`;
}

function label(name: string): string {
  const words = name.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function withoutPath(errors: FieldErrors, path: string): FieldErrors {
  const next = { ...errors };
  for (const key of Object.keys(next)) {
    if (key === path || key.startsWith(`${path}.`) || path.startsWith(`${key}.`)) delete next[key];
  }
  return next;
}

/** Server error details at the nearest field or group they name; the rest as one message. */
function mapServerErrors(
  error: ApiError,
  known: ReadonlySet<string>,
): { byPath: FieldErrors; unplaced?: string } {
  const byPath: FieldErrors = {};
  const unplaced: string[] = [];
  for (const detail of error.body?.details ?? []) {
    let path = detail.path;
    while (path && !known.has(path))
      path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    if (path) {
      const suffix = detail.path === path ? '' : ` (${detail.path})`;
      byPath[path] = byPath[path]
        ? `${byPath[path]}; ${detail.message}${suffix}`
        : `${detail.message}${suffix}`;
    } else {
      unplaced.push(`${detail.path}: ${detail.message}`);
    }
  }
  if (Object.keys(byPath).length === 0 && unplaced.length === 0)
    return { byPath, unplaced: error.message };
  return { byPath, unplaced: unplaced.length > 0 ? unplaced.join('; ') : undefined };
}
