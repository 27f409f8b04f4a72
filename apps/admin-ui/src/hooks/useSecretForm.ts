// One write-only secret's form: its state, the uncontrolled input, checks before sending, and
// setting, replacing or clearing it.
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { ConfigResponse, ServiceSchema } from '../api/types';
import { codePointLength } from '../schema/form-checks';
import { schemaAt } from '../schema/form-model';
import { useSession } from '../session';

export interface SecretFormInput {
  service: string;
  schema: ServiceSchema;
  config: ConfigResponse;
  /** The secret's dotted path. */
  path: string;
  /** The field to focus (arriving from search). */
  field?: string;
  /** An archived service takes no writes until it is registered again. */
  archived?: boolean;
  onChanged: () => void;
}

export function useSecretForm({
  service,
  schema,
  config,
  path,
  field,
  archived = false,
  onChanged,
}: SecretFormInput) {
  const { api, can } = useSession();
  // Uncontrolled on purpose: React would mirror a controlled value into the `value` attribute,
  // putting the secret into the page's HTML while it is typed.
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [confirmClear, setConfirmClear] = useState(false);
  const state = config.secrets[path] ?? { set: false, updatedAt: null };
  const secretSchema = schemaAt(schema.schema, path);
  const id = `secret-${path.replaceAll('.', '--')}`;

  useEffect(() => {
    if (field === path) document.getElementById(id)?.focus();
  }, [field, path, id]);

  const run = async (method: 'PUT' | 'DELETE', done: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const value = input.current?.value ?? '';
      await api.request<void>(
        method,
        endpoints.secret(service, path),
        method === 'PUT' ? { body: { value } } : {},
      );
      if (input.current) input.current.value = '';
      setStatus(done);
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
      setConfirmClear(false);
    }
  };

  /** Sets or replaces the secret with what was typed, once it passes the schema's checks. */
  const submit = () => {
    const value = input.current?.value ?? '';
    if (value === '') {
      setError('Type the new value, or use Clear');
      return;
    }
    if (secretSchema?.maxLength !== undefined && codePointLength(value) > secretSchema.maxLength) {
      setError(`At most ${secretSchema.maxLength} characters`);
      return;
    }
    void run('PUT', state.set ? 'Replaced.' : 'Set.');
  };

  return {
    input,
    /** The input's DOM id (the target of search links). */
    id,
    state,
    description: secretSchema?.description,
    allowed: !archived && can('secrets:write'),
    archived,
    busy,
    error,
    status,
    /** The admin typed: what was said about the last value no longer applies. */
    edited: () => {
      setStatus(undefined);
      setError(undefined);
    },
    submit,
    confirmClear,
    askClear: () => setConfirmClear(true),
    cancelClear: () => setConfirmClear(false),
    clear: () => void run('DELETE', 'Cleared.'),
  };
}
