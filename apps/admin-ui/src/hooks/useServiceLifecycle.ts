// Archiving a service registered over the API (DELETE, after a confirmation with a reason) and
// restoring an archived one (PUT again with the schema it has).
import { useState } from 'react';
import { reasonHeaders, reasonProblem } from '../api/change-reason';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { JsonSchema, ServiceRegistration, ServiceRegistrationRequest } from '../api/types';
import { useSession } from '../session';

export function useServiceLifecycle(service: string, onChanged: () => void) {
  const { api, can } = useSession();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();

  const run = async (
    method: 'PUT' | 'DELETE',
    body: ServiceRegistrationRequest | undefined,
    outcome: string,
  ) => {
    setBusy(true);
    setError(undefined);
    try {
      await api.request<ServiceRegistration>(method, endpoints.registration(service), {
        body,
        headers: reasonHeaders(reason),
      });
      setDone(outcome);
      setAsking(false);
      setReason('');
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return {
    /** Archiving and restoring need the admin role. */
    allowed: can('admin'),
    /** The archive confirmation is open. */
    asking,
    ask: () => setAsking(true),
    cancel: () => {
      setAsking(false);
      setError(undefined);
    },
    reason,
    setReason,
    reasonError: reasonProblem(reason),
    busy,
    error,
    /** What the last archive or restore did. */
    done,
    archive: () =>
      run(
        'DELETE',
        undefined,
        `${service} is archived: its workers keep their last config, its history stays.`,
      ),
    /** Registers the service again with the schema it has, which restores it. */
    restore: (schema: JsonSchema) =>
      run('PUT', { schema }, `${service} is restored and takes changes again.`),
  };
}
