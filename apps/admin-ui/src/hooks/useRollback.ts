// Rolling a service back to an earlier version: the confirmation's target and reason, the POST
// with If-Match and X-Change-Reason, and its outcome.
import { useState } from 'react';
import { reasonHeaders, reasonProblem } from '../api/change-reason';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { VersionSummary } from '../api/types';
import { useSession } from '../session';

/** `current` is the version the rollback replaces (its If-Match); an archived service has none. */
export function useRollback(
  service: string,
  current: number,
  archived: boolean,
  onRolledBack: () => void,
) {
  const { api, can } = useSession();
  const [target, setTarget] = useState<VersionSummary>();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();

  const confirm = async (to: VersionSummary) => {
    setBusy(true);
    setError(undefined);
    try {
      const headers = { 'If-Match': `"${current}"`, ...reasonHeaders(reason) };
      const { data } = await api.request<{ version: number }>('POST', endpoints.rollback(service), {
        body: { toVersion: to.version },
        headers,
      });
      setDone(`Rolled back to the content of version ${to.version}: now version ${data.version}.`);
      setTarget(undefined);
      setReason('');
      onRolledBack();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return {
    allowed: !archived && can('config:write'),
    /** The version the confirmation asks about, while it is open. */
    target,
    ask: (version: VersionSummary) => setTarget(version),
    cancel: () => setTarget(undefined),
    reason,
    setReason,
    reasonError: reasonProblem(reason),
    busy,
    error,
    /** What the last rollback did. */
    done,
    confirm,
  };
}
