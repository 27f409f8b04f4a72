// The config editor's state, effects and requests: the draft over its base version, client and
// server errors, saving (or staging, X-Publish: staged) with If-Match and X-Change-Reason, and
// resolving a 412 conflict.
import { useEffect, useMemo, useState } from 'react';
import { reasonHeaders, reasonProblem } from '../api/change-reason';
import { isRolloutActive } from '../api/rollout-errors';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { ConfigObject, ConfigResponse, ChangeEntry, ServiceSchema } from '../api/types';
import { fieldId } from '../schema/form-labels';
import { changedPaths, patchBetween, rebase, setAt } from '../schema/config-edits';
import { checkConfig } from '../schema/form-checks';
import { buildForm, fieldsOf, groupsOf, type FieldErrors } from '../schema/form-model';
import { useSession } from '../session';

/** What was saved meanwhile, when a save met a newer version (412). */
export interface Conflict {
  readonly current: ConfigResponse;
  readonly changes: ChangeEntry[];
  /** The paths the admin changed, marked in the list of changes. */
  readonly mine: string[];
}

export interface ConfigEditorInput {
  service: string;
  schema: ServiceSchema;
  /** The current config as last loaded. */
  config: ConfigResponse;
  /** The field to show and focus (arriving from search). */
  field?: string;
  /** An archived service takes no writes until it is registered again. */
  archived?: boolean;
  onSaved: () => void;
}

export function useConfigEditor({
  service,
  schema,
  config,
  field,
  archived = false,
  onSaved,
}: ConfigEditorInput) {
  const { api, can } = useSession();
  const form = useMemo(() => buildForm(schema.schema), [schema]);
  const [base, setBase] = useState(config);
  const [draft, setDraft] = useState<ConfigObject>(config.config);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string>();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string>();
  const [conflict, setConflict] = useState<Conflict>();
  const [staged, setStaged] = useState<number>();
  const [rolloutActive, setRolloutActive] = useState(false);

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
    if (config.version !== base.version && mine.length === 0 && conflict === undefined) {
      setBase(config);
      setDraft(config.config);
      setTexts({});
    }
    // Only a new version from the server matters here, not the admin's typing.
  }, [config]);

  // Arriving from search: show and focus the field.
  useEffect(() => {
    if (field === undefined) return;
    const input = document.getElementById(fieldId(field));
    input?.scrollIntoView({ block: 'center' });
    input?.focus();
  }, [field]);

  useEffect(() => {
    if (mine.length === 0) return undefined;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [mine.length]);

  /** The admin edited a field or switched a group; `text` is what they typed, when it matters. */
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
    setStaged(undefined);
  };

  const reset = (to: ConfigResponse) => {
    setBase(to);
    setDraft(to.config);
    setTexts({});
    setServerErrors({});
    setFormError(undefined);
    setRolloutActive(false);
  };

  /**
   * Sends the changed keys as a PATCH on the base version; a 412 opens the conflict. Staged
   * (`X-Publish: staged`), it makes a version that is not published: the current version stays
   * the form's base, and the staged one waits in the history for a rollout.
   */
  const save = async (publish: 'now' | 'staged' = 'now') => {
    const patch = patchBetween(base.config, draft);
    if (patch === undefined || Object.keys(clientErrors).length > 0 || reasonError) return;
    setBusy(true);
    setFormError(undefined);
    setRolloutActive(false);
    setStaged(undefined);
    try {
      const headers = {
        'If-Match': `"${base.version}"`,
        ...reasonHeaders(reason),
        ...(publish === 'staged' ? { 'X-Publish': 'staged' } : {}),
      };
      const { data } = await api.request<ConfigResponse>('PATCH', endpoints.config(service), {
        body: patch,
        headers,
      });
      setReason('');
      if (publish === 'staged') {
        reset(base);
        setStaged(data.version);
        setStatus(
          `Staged as version ${data.version}, not published: workers keep version ${base.version}.`,
        );
      } else {
        reset(data);
        setStatus(`Saved as version ${data.version}.`);
      }
      onSaved();
    } catch (caught) {
      if (!(caught instanceof ApiError)) throw caught;
      if (caught.status === 412) {
        await loadConflict();
      } else if (isRolloutActive(caught)) {
        setRolloutActive(true);
        setFormError(caught.message);
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
    const current = await api.get<ConfigResponse>(endpoints.config(service));
    const changes = await api.get<ChangeEntry[]>(
      endpoints.diff(service, { from: base.version, to: current.version }),
    );
    setConflict({ current, changes, mine });
  };

  /** Lays the admin's changes over the version saved meanwhile, for review before saving. */
  const reapply = (current: ConfigResponse) => {
    const rebased = rebase(current.config, draft, mine);
    setBase(current);
    setDraft(rebased);
    setServerErrors({});
    setConflict(undefined);
    setStatus(`Your changes now sit on version ${current.version}: review them and save.`);
  };

  /** Drops the admin's changes for the version saved meanwhile. */
  const discardForCurrent = (current: ConfigResponse) => {
    reset(current);
    setConflict(undefined);
  };

  const readOnly = archived || !can('config:write');
  const clientProblemCount = Object.keys(clientErrors).length;
  return {
    form,
    base,
    draft,
    texts,
    errors,
    /** The paths the admin changed. */
    mine,
    conflict,
    formError,
    /** The last save was refused because a rollout is under way (409 ROLLOUT_ACTIVE). */
    rolloutActive,
    /** The version the last save staged, if it staged one. */
    staged,
    reason,
    setReason,
    reasonError,
    busy,
    status,
    readOnly,
    archived,
    clientProblemCount,
    canSave:
      !readOnly &&
      !busy &&
      mine.length > 0 &&
      clientProblemCount === 0 &&
      reasonError === undefined &&
      conflict === undefined,
    change,
    save: () => save('now'),
    stage: () => save('staged'),
    discard: () => reset(base),
    reapply,
    discardForCurrent,
  };
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
